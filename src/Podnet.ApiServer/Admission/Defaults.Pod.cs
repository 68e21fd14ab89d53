using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// Upstream's SetDefaults_PodSpec and the defaulters of what a pod spec holds (containers,
/// probes, handlers, ports, volumes, field selectors), for pods and every pod template alike.
/// What upstream sets on a Pod only (SetDefaults_Pod, the ServiceAccount and Priority
/// admission) is in <see cref="Pod"/>, never on a template.
/// </summary>
internal static partial class Defaults
{
    /// <summary>The mode of secret, configMap, downwardAPI and projected volume files: 0644.</summary>
    public const int DefaultVolumeMode = 420;

    /// <summary>A pod: the pod spec's defaults, then what upstream defaults on pods only.</summary>
    private static void Pod(JsonObject obj, JsonObject? old)
    {
        var spec = obj.Child("spec");
        PodSpec(spec);
        spec["enableServiceLinks"] ??= true;
        if ((string?)spec["serviceAccountName"] is null or "")
        {
            spec["serviceAccountName"] = "default"; // the ServiceAccount admission
            spec["serviceAccount"] = "default";
        }
        foreach (var container in Containers(spec))
        {
            RequestsFromLimits(container);
            if (spec["hostNetwork"]?.GetValueKind() == System.Text.Json.JsonValueKind.True)
            {
                HostNetworkPorts(container);
            }
        }
        if (old is null)
        {
            // The Priority admission without a globalDefault PriorityClass.
            if ((string?)spec["priorityClassName"] is null or "")
            {
                spec["priority"] ??= 0;
            }
            spec["preemptionPolicy"] ??= "PreemptLowerPriority";
            obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
            DefaultTolerationSeconds(spec);
        }
    }

    public static void PodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["schedulerName"] ??= "default-scheduler";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["securityContext"] ??= new JsonObject();
        // The v1 conversion: the deprecated serviceAccount names the account when serviceAccountName does not, and mirrors it.
        if ((string?)spec["serviceAccountName"] is null or "" && (string?)spec["serviceAccount"] is { Length: > 0 } deprecated)
        {
            spec["serviceAccountName"] = deprecated;
        }
        if ((string?)spec["serviceAccountName"] is { Length: > 0 } account)
        {
            spec["serviceAccount"] = account;
        }
        foreach (var container in Containers(spec))
        {
            Container(container);
        }
        foreach (var volume in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            Volume(volume);
        }
    }

    private static IEnumerable<JsonObject> Containers(JsonObject spec) =>
        new[] { "containers", "initContainers", "ephemeralContainers" }
            .SelectMany(list => (spec[list] as JsonArray ?? []).OfType<JsonObject>());

    /// <summary>
    /// SetDefaults_Container: IfNotPresent unless the tag is latest — an image without tag or
    /// digest has the tag latest, one with only a digest has none.
    /// </summary>
    private static void Container(JsonObject container)
    {
        var image = (string?)container["image"] ?? "";
        var digest = image.Contains('@');
        var name = digest ? image[..image.IndexOf('@')] : image;
        var tag = name.LastIndexOf(':') > name.LastIndexOf('/') ? name[(name.LastIndexOf(':') + 1)..] : digest ? "" : "latest";
        container["imagePullPolicy"] ??= tag == "latest" ? "Always" : "IfNotPresent";
        container["terminationMessagePath"] ??= "/dev/termination-log";
        container["terminationMessagePolicy"] ??= "File";
        container["resources"] ??= new JsonObject();
        Protocols(container["ports"] as JsonArray);
        foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            if (container[probe] is JsonObject p)
            {
                Probe(p);
            }
        }
        if (container["lifecycle"] is JsonObject lifecycle)
        {
            foreach (var hook in new[] { "postStart", "preStop" })
            {
                if (lifecycle[hook]?["httpGet"] is JsonObject httpGet)
                {
                    HttpGet(httpGet);
                }
            }
        }
        foreach (var env in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            FieldRef(env["valueFrom"]?["fieldRef"] as JsonObject);
        }
    }

    /// <summary>SetDefaults_Probe: timeout 1 s, period 10 s, success 1, failure 3.</summary>
    private static void Probe(JsonObject probe)
    {
        probe["timeoutSeconds"] = Positive(probe["timeoutSeconds"], 1);
        probe["periodSeconds"] = Positive(probe["periodSeconds"], 10);
        probe["successThreshold"] = Positive(probe["successThreshold"], 1);
        probe["failureThreshold"] = Positive(probe["failureThreshold"], 3);
        if (probe["httpGet"] is JsonObject httpGet)
        {
            HttpGet(httpGet);
        }
    }

    /// <summary>Upstream's int32 fields: absent and 0 are the same, so both take the default.</summary>
    private static JsonNode? Positive(JsonNode? value, int fallback) =>
        value is null || ObjectMeta.Long(value) == 0 ? fallback : value;

    private static void HttpGet(JsonObject httpGet)
    {
        if ((string?)httpGet["path"] is null or "")
        {
            httpGet["path"] = "/";
        }
        if ((string?)httpGet["scheme"] is null or "")
        {
            httpGet["scheme"] = "HTTP";
        }
    }

    private static void FieldRef(JsonObject? fieldRef)
    {
        if (fieldRef is not null && (string?)fieldRef["apiVersion"] is null or "")
        {
            fieldRef["apiVersion"] = "v1";
        }
    }

    /// <summary>SetDefaults_Pod: a resource with a limit and no request requests its limit.</summary>
    private static void RequestsFromLimits(JsonObject container)
    {
        if (container["resources"]?["limits"] is not JsonObject { Count: > 0 } limits)
        {
            return;
        }
        var requests = container.Child("resources").Child("requests");
        foreach (var (resource, limit) in limits)
        {
            requests[resource] ??= limit?.DeepClone();
        }
    }

    /// <summary>On the host's network a container port is a host port: hostPort 0 becomes containerPort.</summary>
    private static void HostNetworkPorts(JsonObject container)
    {
        foreach (var port in (container["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (ObjectMeta.Long(port["hostPort"]) is null or 0)
            {
                port["hostPort"] = port["containerPort"]?.DeepClone();
            }
        }
    }

    /// <summary>SetDefaults_Volume and the volume sources' defaulters.</summary>
    private static void Volume(JsonObject volume)
    {
        if (!volume.Any(p => p.Key != "name"))
        {
            volume["emptyDir"] = new JsonObject();
        }
        foreach (var source in new[] { "secret", "configMap", "downwardAPI", "projected" })
        {
            if (volume[source] is JsonObject s)
            {
                s["defaultMode"] ??= DefaultVolumeMode;
            }
        }
        if (volume["hostPath"] is JsonObject hostPath)
        {
            hostPath["type"] ??= "";
        }
        foreach (var item in (volume["downwardAPI"]?["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            FieldRef(item["fieldRef"] as JsonObject);
        }
        foreach (var projection in (volume["projected"]?["sources"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (projection["serviceAccountToken"] is JsonObject token)
            {
                token["expirationSeconds"] ??= 3600;
            }
            foreach (var item in (projection["downwardAPI"]?["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                FieldRef(item["fieldRef"] as JsonObject);
            }
        }
    }
}
