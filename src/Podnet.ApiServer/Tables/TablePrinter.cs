using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tables;

internal sealed record Column(string Name, int Priority = 0, string Type = "string", string Format = "");

/// <summary>
/// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for, with kube-apiserver's
/// columns for each kind (wide-only columns at priority 1).
/// </summary>
internal static partial class TablePrinter
{
    public static JsonObject Print(ResourceInfo r, JsonObject body, bool includeObject) =>
        Print(r, body, includeObject, DateTimeOffset.UtcNow);

    public static JsonObject Print(ResourceInfo r, JsonObject body, bool includeObject, DateTimeOffset now)
    {
        var isList = body["items"] is JsonArray;
        var items = isList ? body["items"]!.AsArray().OfType<JsonObject>().ToList() : [body];
        var (columns, cells) = Layout(r, now);
        var rows = new JsonArray();
        foreach (var item in items)
        {
            rows.Add((JsonNode)new JsonObject
            {
                ["cells"] = new JsonArray(cells(item).Select(Cell).ToArray()),
                ["object"] = includeObject ? item.DeepClone() : Http.PartialMetadata.Of(item),
            });
        }
        var metadata = new JsonObject { ["resourceVersion"] = (isList ? body["metadata"]?["resourceVersion"] : body["metadata"]?["resourceVersion"])?.DeepClone() };
        if (isList && body["metadata"]?["continue"] is { } cont)
        {
            metadata["continue"] = cont.DeepClone();
        }
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = metadata,
            ["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Name,
                ["priority"] = c.Priority,
            }).ToArray()),
            ["rows"] = rows,
        };
    }

    private static JsonNode? Cell(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        _ => JsonValue.Create(value.ToString()),
    };

    private static (Column[] Columns, Func<JsonObject, object?[]> Cells) Layout(ResourceInfo r, DateTimeOffset now)
    {
        string Age(JsonObject o) => HumanDuration(now - (ObjectMeta.ParseTimestamp(o["metadata"]?["creationTimestamp"]) ?? now));
        var name = new Column("Name", Format: "name");
        var age = new Column("Age");
        if (r.Custom?.Columns.GetValueOrDefault(r.Version) is { Count: > 0 } custom)
        {
            return ([name, .. custom.Select(c => new Column(c.Name, c.Priority, c.Type, c.Format))],
                o => [o.Name(), .. custom.Select(c => CustomCell(JsonPathLite.Evaluate(o, c.JsonPath).FirstOrDefault(), c.Type, now))]);
        }
        return r.Key switch
        {
            "pods" => ([name, new("Ready"), new("Status"), new("Restarts"), age, new("IP", 1), new("Node", 1), new("Nominated Node", 1), new("Readiness Gates", 1)],
                o => Pod(o, Age(o))),
            "services" => ([name, new("Type"), new("Cluster-IP"), new("External-IP"), new("Port(s)"), age, new("Selector", 1)],
                o => Service(o, Age(o))),
            "apps/deployments" => ([name, new("Ready"), new("Up-to-date", Type: "integer"), new("Available", Type: "integer"), age, new("Containers", 1), new("Images", 1), new("Selector", 1)],
                o => [o.Name(), $"{Int(o, "status", "readyReplicas")}/{Int(o, "spec", "replicas")}", Int(o, "status", "updatedReplicas"), Int(o, "status", "availableReplicas"), Age(o), .. Template(o)]),
            "apps/replicasets" => ([name, new("Desired", Type: "integer"), new("Current", Type: "integer"), new("Ready", Type: "integer"), age, new("Containers", 1), new("Images", 1), new("Selector", 1)],
                o => [o.Name(), Int(o, "spec", "replicas"), Int(o, "status", "replicas"), Int(o, "status", "readyReplicas"), Age(o), .. Template(o)]),
            "apps/statefulsets" => ([name, new("Ready"), age, new("Containers", 1), new("Images", 1)],
                o => [o.Name(), $"{Int(o, "status", "readyReplicas")}/{Int(o, "spec", "replicas")}", Age(o), .. Template(o)[..2]]),
            "apps/controllerrevisions" => ([name, new("Controller"), new("Revision", Type: "integer"), age],
                o => [o.Name(), RevisionOwner(o), ObjectMeta.Long(o["revision"]) ?? 0, Age(o)]),
            "policy/poddisruptionbudgets" => ([name, new("Min Available"), new("Max Unavailable"), new("Allowed Disruptions", Type: "integer"), age],
                o => [o.Name(), o["spec"]?["minAvailable"]?.ToString() ?? "N/A", o["spec"]?["maxUnavailable"]?.ToString() ?? "N/A", Int(o, "status", "disruptionsAllowed"), Age(o)]),
            "apps/daemonsets" => ([name, new("Desired", Type: "integer"), new("Current", Type: "integer"), new("Ready", Type: "integer"), new("Up-to-date", Type: "integer"), new("Available", Type: "integer"), new("Node Selector"), age, new("Containers", 1), new("Images", 1), new("Selector", 1)],
                o => [o.Name(), Int(o, "status", "desiredNumberScheduled"), Int(o, "status", "currentNumberScheduled"), Int(o, "status", "numberReady"), Int(o, "status", "updatedNumberScheduled"), Int(o, "status", "numberAvailable"),
                    Selector(o["spec"]?["template"]?["spec"]?["nodeSelector"] as JsonObject, "<none>"), Age(o), .. Template(o)]),
            "namespaces" => ([name, new("Status"), age], o => [o.Name(), (string?)o["status"]?["phase"] ?? "Active", Age(o)]),
            "nodes" => ([name, new("Status"), new("Roles"), age, new("Version"), new("Internal-IP", 1), new("External-IP", 1), new("OS-Image", 1), new("Kernel-Version", 1), new("Container-Runtime", 1)],
                o => Node(o, Age(o))),
            "configmaps" => ([name, new("Data", Type: "integer"), age], o => [o.Name(), Count(o["data"]) + Count(o["binaryData"]), Age(o)]),
            "secrets" => ([name, new("Type"), new("Data", Type: "integer"), age], o => [o.Name(), (string?)o["type"] ?? "Opaque", Count(o["data"]), Age(o)]),
            "serviceaccounts" => ([name, new("Secrets", Type: "integer"), age], o => [o.Name(), (o["secrets"] as JsonArray)?.Count ?? 0, Age(o)]),
            "endpoints" => ([name, new("Endpoints"), age], o => [o.Name(), Endpoints(o), Age(o)]),
            "discovery.k8s.io/endpointslices" => ([name, new("AddressType"), new("Ports"), new("Endpoints"), age], o => Slice(o, Age(o))),
            "networking.k8s.io/networkpolicies" => ([name, new("Pod-Selector"), age], o => [o.Name(), Selector(o["spec"]?["podSelector"]?["matchLabels"] as JsonObject, "<none>"), Age(o)]),
            "networking.k8s.io/ingresses" => ([name, new("Class"), new("Hosts"), new("Address"), new("Ports"), age], o => Ingress(o, Age(o))),
            "networking.k8s.io/ingressclasses" => ([name, new("Controller"), new("Parameters"), age], o => [o.Name(), (string?)o["spec"]?["controller"] ?? "", IngressClassParameters(o), Age(o)]),
            "networking.k8s.io/servicecidrs" => ([name, new("CIDRs"), age], o => [o.Name(), string.Join(",", (o["spec"]?["cidrs"] as JsonArray ?? []).Select(c => (string?)c)), Age(o)]),
            "networking.k8s.io/ipaddresses" => ([name, new("ParentRef")], o => [o.Name(), IPAddressParent(o)]),
            "coordination.k8s.io/leases" => ([name, new("Holder"), age], o => [o.Name(), (string?)o["spec"]?["holderIdentity"] ?? "", Age(o)]),
            "events" => ([new("Last Seen"), new("Type"), new("Reason"), new("Object"), new("Message")], o => Event(o, now)),
            _ => ([name, age], o => [o.Name(), Age(o)]),
        };
    }

    /// <summary>A printer column's cell as apiextensions' table convertor makes it: dates as ages, numbers as numbers, the rest as text.</summary>
    private static object? CustomCell(JsonNode? value, string type, DateTimeOffset now)
    {
        if (value is null)
        {
            return null;
        }
        if (type == "date")
        {
            return ObjectMeta.ParseTimestamp(value) is { } t ? HumanDuration(now - t) : "<invalid>";
        }
        if (value is JsonValue v)
        {
            if (type == "integer" && long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l))
            {
                return l;
            }
            if (v.TryGetValue<string>(out var s))
            {
                return s;
            }
            return v.ToJsonString();
        }
        return value.ToJsonString();
    }

    /// <summary>The controller of a ControllerRevision as upstream prints it: "statefulset.apps/web", or "&lt;none&gt;".</summary>
    private static string RevisionOwner(JsonObject o)
    {
        var owner = (o["metadata"]?["ownerReferences"] as JsonArray ?? []).FirstOrDefault(r => (bool?)r?["controller"] == true);
        if (owner is null)
        {
            return "<none>";
        }
        var apiVersion = (string?)owner["apiVersion"] ?? "";
        var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        var kind = ((string?)owner["kind"] ?? "").ToLowerInvariant();
        return $"{(group.Length > 0 ? $"{kind}.{group}" : kind)}/{(string?)owner["name"]}";
    }

    private static long Int(JsonObject o, string section, string field) => ObjectMeta.Long(o[section]?[field]) ?? 0;

    private static int Count(JsonNode? map) => (map as JsonObject)?.Count ?? 0;

    private static string Selector(JsonObject? map, string empty) =>
        map is null || map.Count == 0 ? empty : string.Join(",", map.Select(p => $"{p.Key}={(string?)p.Value}"));

    private static object?[] Template(JsonObject o)
    {
        var containers = o["spec"]?["template"]?["spec"]?["containers"] as JsonArray ?? [];
        return [string.Join(",", containers.Select(c => (string?)c?["name"])), string.Join(",", containers.Select(c => (string?)c?["image"])),
            Selector(o["spec"]?["selector"]?["matchLabels"] as JsonObject, "<none>")];
    }

    /// <summary>kube's duration.HumanDuration: "45s", "5m30s", "3h", "2d5h", "3y".</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }
        if (seconds < 0)
        {
            return "0s";
        }
        if (seconds < 120)
        {
            return $"{seconds}s";
        }
        var minutes = seconds / 60;
        if (minutes < 10)
        {
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        }
        if (minutes < 180)
        {
            return $"{minutes}m";
        }
        var hours = minutes / 60;
        if (hours < 8)
        {
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        }
        if (hours < 48)
        {
            return $"{hours}h";
        }
        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        }
        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }
        if (hours < 24 * 365 * 8)
        {
            var days = hours / 24 % 365;
            return days == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{days}d";
        }
        return $"{hours / 24 / 365}y";
    }
}
