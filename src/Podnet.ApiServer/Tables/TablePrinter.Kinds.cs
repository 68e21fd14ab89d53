using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tables;

internal static partial class TablePrinter
{
    private static object?[] Pod(JsonObject o, string age)
    {
        var containers = o["spec"]?["containers"] as JsonArray ?? [];
        var statuses = (o["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var ready = statuses.Count(s => (bool?)s["ready"] == true);
        var restarts = statuses.Sum(s => ObjectMeta.Long(s["restartCount"]) ?? 0);
        var reason = (string?)o["status"]?["reason"] ?? (string?)o["status"]?["phase"] ?? "Unknown";
        foreach (var s in statuses)
        {
            if ((string?)s["state"]?["waiting"]?["reason"] is { Length: > 0 } waiting)
            {
                reason = waiting;
            }
            else if ((string?)s["state"]?["terminated"]?["reason"] is { Length: > 0 } terminated)
            {
                reason = terminated;
            }
        }
        if (o.IsDeleting())
        {
            reason = (string?)o["status"]?["reason"] == "NodeLost" ? "Unknown" : "Terminating";
        }
        var gates = o["spec"]?["readinessGates"] as JsonArray;
        return [o.Name(), $"{ready}/{containers.Count}", reason, restarts.ToString(System.Globalization.CultureInfo.InvariantCulture), age,
            (string?)o["status"]?["podIP"] is { Length: > 0 } ip ? ip : "<none>",
            (string?)o["spec"]?["nodeName"] is { Length: > 0 } node ? node : "<none>",
            (string?)o["status"]?["nominatedNodeName"] is { Length: > 0 } nominated ? nominated : "<none>",
            gates is { Count: > 0 } ? $"0/{gates.Count}" : "<none>"];
    }

    private static object?[] Service(JsonObject o, string age)
    {
        var spec = o["spec"] as JsonObject ?? [];
        var type = (string?)spec["type"] ?? "ClusterIP";
        // As kubectl's printer (server-side, so wide: never truncated): a LoadBalancer's ingress
        // addresses and then its externalIPs, <pending> with neither.
        var externalIPs = (spec["externalIPs"] as JsonArray ?? []).Select(i => (string?)i).OfType<string>().ToList();
        var external = type switch
        {
            "ExternalName" => (string?)spec["externalName"] ?? "<none>",
            "LoadBalancer" => (o["status"]?["loadBalancer"]?["ingress"] as JsonArray ?? []).Select(i => (string?)i?["ip"] ?? (string?)i?["hostname"]).OfType<string>().Concat(externalIPs).ToList() is { Count: > 0 } shown
                ? string.Join(",", shown) : "<pending>",
            _ => externalIPs.Count > 0 ? string.Join(",", externalIPs) : "<none>",
        };
        var ports = (spec["ports"] as JsonArray ?? []).Select(p => ObjectMeta.Long(p?["nodePort"]) is { } nodePort
            ? $"{p?["port"]}:{nodePort}/{(string?)p?["protocol"] ?? "TCP"}"
            : $"{p?["port"]}/{(string?)p?["protocol"] ?? "TCP"}").ToList();
        return [o.Name(), type, (string?)spec["clusterIP"] is { Length: > 0 } ip ? ip : "<none>", external,
            ports.Count > 0 ? string.Join(",", ports) : "<none>", age, Selector(spec["selector"] as JsonObject, "<none>")];
    }

    private static object?[] Node(JsonObject o, string age)
    {
        var conditions = o["status"]?["conditions"] as JsonArray ?? [];
        var ready = conditions.FirstOrDefault(c => (string?)c?["type"] == "Ready");
        var status = ready is null ? "Unknown" : (string?)ready["status"] == "True" ? "Ready" : "NotReady";
        if ((bool?)o["spec"]?["unschedulable"] == true)
        {
            status += ",SchedulingDisabled";
        }
        var roles = (o["metadata"]?["labels"] as JsonObject ?? [])
            .Where(p => p.Key.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            .Select(p => p.Key["node-role.kubernetes.io/".Length..]).ToList();
        var addresses = o["status"]?["addresses"] as JsonArray ?? [];
        string Address(string type) => (string?)addresses.FirstOrDefault(a => (string?)a?["type"] == type)?["address"] ?? "<none>";
        var info = o["status"]?["nodeInfo"];
        return [o.Name(), status, roles.Count > 0 ? string.Join(",", roles) : "<none>", age, (string?)info?["kubeletVersion"] ?? "",
            Address("InternalIP"), Address("ExternalIP"), (string?)info?["osImage"] ?? "", (string?)info?["kernelVersion"] ?? "", (string?)info?["containerRuntimeVersion"] ?? ""];
    }

    private static string Endpoints(JsonObject o)
    {
        var list = new List<string>();
        foreach (var subset in o["subsets"] as JsonArray ?? [])
        {
            var ports = (subset?["ports"] as JsonArray ?? []).Select(p => ObjectMeta.Long(p?["port"])).ToList();
            foreach (var address in subset?["addresses"] as JsonArray ?? [])
            {
                list.AddRange(ports.Count == 0 ? [(string?)address?["ip"] ?? ""] : ports.Select(p => $"{(string?)address?["ip"]}:{p}"));
            }
        }
        return list.Count == 0 ? "<none>" : list.Count > 3 ? $"{string.Join(",", list.Take(3))} + {list.Count - 3} more..." : string.Join(",", list);
    }

    private static object?[] Slice(JsonObject o, string age)
    {
        var ports = (o["ports"] as JsonArray ?? []).Select(p => p?["port"]?.ToString() ?? "").ToList();
        var addresses = (o["endpoints"] as JsonArray ?? []).SelectMany(e => (e?["addresses"] as JsonArray ?? []).Select(a => (string?)a)).ToList();
        var shown = addresses.Count == 0 ? "<unset>" : addresses.Count > 3 ? $"{string.Join(",", addresses.Take(3))} + {addresses.Count - 3} more..." : string.Join(",", addresses);
        return [o.Name(), (string?)o["addressType"] ?? "", ports.Count == 0 ? "<unset>" : string.Join(",", ports), shown, age];
    }

    private static object?[] Event(JsonObject o, DateTimeOffset now)
    {
        var last = ObjectMeta.ParseTimestamp(o["lastTimestamp"]) ?? ObjectMeta.ParseTimestamp(o["eventTime"]) ?? ObjectMeta.ParseTimestamp(o["metadata"]?["creationTimestamp"]) ?? now;
        var involved = o["involvedObject"];
        return [HumanDuration(now - last), (string?)o["type"] ?? "", (string?)o["reason"] ?? "",
            $"{((string?)involved?["kind"] ?? "").ToLowerInvariant()}/{(string?)involved?["name"]}", (string?)o["message"] ?? ""];
    }
}
