using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Admission;

/// <summary>The defaults kube-apiserver fills in, for the fields Podnet's components and kubectl read.</summary>
internal static class Defaults
{
    public static void Apply(ResourceInfo r, JsonObject obj, JsonObject? old)
    {
        switch (r.Key)
        {
            case "namespaces":
                obj.Meta().Child("labels")["kubernetes.io/metadata.name"] = obj.Name();
                obj.Child("spec")["finalizers"] ??= new JsonArray("kubernetes");
                obj.Child("status")["phase"] = obj.IsDeleting() ? "Terminating" : "Active";
                break;
            case "pods":
                PodSpec(obj.Child("spec"));
                if (old is null)
                {
                    obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
                    DefaultTolerationSeconds(obj.Child("spec"));
                }
                break;
            case "services":
                Service(obj.Child("spec"));
                if (old is null)
                {
                    obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                }
                break;
            case "apps/deployments":
                Workload(obj, old);
                var strategy = obj.Child("spec").Child("strategy");
                strategy["type"] ??= "RollingUpdate";
                if ((string?)strategy["type"] == "RollingUpdate")
                {
                    strategy.Child("rollingUpdate")["maxSurge"] ??= "25%";
                    strategy.Child("rollingUpdate")["maxUnavailable"] ??= "25%";
                }
                obj.Child("spec")["progressDeadlineSeconds"] ??= 600;
                break;
            case "apps/replicasets":
                Workload(obj, old);
                break;
            case "apps/statefulsets":
                Workload(obj, old);
                StatefulSet(obj.Child("spec"));
                break;
            case "policy/poddisruptionbudgets" when old is null:
                // The status's counts are plain (not optional) fields upstream: a new budget shows them as 0.
                obj["status"] = new JsonObject { ["disruptionsAllowed"] = 0, ["currentHealthy"] = 0, ["desiredHealthy"] = 0, ["expectedPods"] = 0 };
                break;
            case "apps/daemonsets":
                DaemonSet(obj, old);
                break;
            case "secrets":
                if ((string?)obj["type"] is null or "")
                {
                    obj["type"] = "Opaque";
                }
                MergeStringData(obj);
                break;
            case "networking.k8s.io/networkpolicies":
                NetworkPolicy(obj.Child("spec"));
                break;
            case "endpoints":
                foreach (var subset in obj["subsets"] as JsonArray ?? [])
                {
                    Protocols(subset?["ports"] as JsonArray);
                }
                break;
            case "discovery.k8s.io/endpointslices":
                Protocols(obj["ports"] as JsonArray);
                break;
        }
    }

    /// <summary>How long a pod stays on a node that is not ready or unreachable, unless it says otherwise.</summary>
    public const int DefaultTolerationSecondsValue = 300;

    /// <summary>
    /// The DefaultTolerationSeconds admission plugin, on create: a pod with no toleration of the
    /// not-ready (or unreachable) NoExecute taint gets one for 300 s, so that taint-based
    /// eviction moves it off a dead node after five minutes rather than at once. A toleration
    /// with an empty key or an empty effect counts, as upstream counts it.
    /// </summary>
    private static void DefaultTolerationSeconds(JsonObject spec)
    {
        var tolerations = spec["tolerations"] as JsonArray ?? [];
        foreach (var key in new[] { "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable" })
        {
            var tolerated = tolerations.OfType<JsonObject>().Any(t =>
                ((string?)t["key"] is null or "" || (string?)t["key"] == key) && ((string?)t["effect"] is null or "" or "NoExecute"));
            if (!tolerated)
            {
                tolerations.Add((JsonNode)new JsonObject { ["key"] = key, ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = DefaultTolerationSecondsValue });
            }
        }
        spec["tolerations"] = tolerations;
    }

    /// <summary>stringData is write-only: merged into data (base64), as upstream, then dropped.</summary>
    private static void MergeStringData(JsonObject secret)
    {
        if (secret["stringData"] is not JsonObject stringData)
        {
            secret.Remove("stringData");
            return;
        }
        var data = secret["data"] as JsonObject ?? [];
        foreach (var (key, value) in stringData)
        {
            data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes((string?)value ?? ""));
        }
        secret["data"] = data;
        secret.Remove("stringData");
    }

    private static void Workload(JsonObject obj, JsonObject? old)
    {
        var spec = obj.Child("spec");
        spec["replicas"] ??= 1;
        // ReplicaSetSpec has no revisionHistoryLimit (found by the protobuf round trip).
        if ((string?)obj["kind"] != "ReplicaSet")
        {
            spec["revisionHistoryLimit"] ??= 10;
        }
        PodSpec(spec.Child("template").Child("spec"));
        if (old is null)
        {
            obj["status"] = new JsonObject();
        }
    }

    /// <summary>As upstream's SetDefaults_StatefulSet (maxUnavailable is left unset: its feature gate is off by default).</summary>
    private static void StatefulSet(JsonObject spec)
    {
        spec["podManagementPolicy"] ??= "OrderedReady";
        var strategy = spec.Child("updateStrategy");
        strategy["type"] ??= "RollingUpdate";
        if ((string?)strategy["type"] == "RollingUpdate")
        {
            strategy.Child("rollingUpdate")["partition"] ??= 0;
        }
        var retention = spec.Child("persistentVolumeClaimRetentionPolicy");
        retention["whenDeleted"] ??= "Retain";
        retention["whenScaled"] ??= "Retain";
    }

    /// <summary>As upstream's SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, ten revisions kept.</summary>
    private static void DaemonSet(JsonObject obj, JsonObject? old)
    {
        var spec = obj.Child("spec");
        var strategy = spec.Child("updateStrategy");
        strategy["type"] ??= "RollingUpdate";
        if ((string?)strategy["type"] == "RollingUpdate")
        {
            strategy.Child("rollingUpdate")["maxUnavailable"] ??= 1;
            strategy.Child("rollingUpdate")["maxSurge"] ??= 0;
        }
        spec["revisionHistoryLimit"] ??= 10;
        PodSpec(spec.Child("template").Child("spec"));
        if (old is null)
        {
            obj["status"] = new JsonObject { ["currentNumberScheduled"] = 0, ["numberMisscheduled"] = 0, ["desiredNumberScheduled"] = 0, ["numberReady"] = 0 };
        }
    }

    public static void PodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["schedulerName"] ??= "default-scheduler";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["securityContext"] ??= new JsonObject();
        spec["serviceAccountName"] ??= "default";
        spec["enableServiceLinks"] ??= true;
        foreach (var list in new[] { "containers", "initContainers" })
        {
            foreach (var container in (spec[list] as JsonArray ?? []).OfType<JsonObject>())
            {
                var image = (string?)container["image"] ?? "";
                var tagged = image.Contains('@') || image.LastIndexOf(':') > image.LastIndexOf('/');
                container["imagePullPolicy"] ??= !tagged || image.EndsWith(":latest", StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                container["terminationMessagePath"] ??= "/dev/termination-log";
                container["terminationMessagePolicy"] ??= "File";
                container["resources"] ??= new JsonObject();
                Protocols(container["ports"] as JsonArray);
            }
        }
    }

    private static void Service(JsonObject spec)
    {
        var type = (string?)(spec["type"] ??= "ClusterIP");
        spec["sessionAffinity"] ??= "None";
        if (type == "ExternalName")
        {
            return;
        }
        spec["internalTrafficPolicy"] ??= "Cluster";
        if (type is "NodePort" or "LoadBalancer")
        {
            spec["externalTrafficPolicy"] ??= "Cluster";
        }
        if (type == "LoadBalancer")
        {
            spec["allocateLoadBalancerNodePorts"] ??= true;
        }
        foreach (var port in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            port["protocol"] ??= "TCP";
            port["targetPort"] ??= port["port"]?.DeepClone();
        }
    }

    private static void NetworkPolicy(JsonObject spec)
    {
        spec["podSelector"] ??= new JsonObject();
        if (spec["policyTypes"] is not JsonArray { Count: > 0 })
        {
            var types = new JsonArray("Ingress");
            if (spec["egress"] is JsonArray { Count: > 0 }) // as upstream: an empty egress list adds nothing
            {
                types.Add((JsonNode)"Egress");
            }
            spec["policyTypes"] = types;
        }
        foreach (var direction in new[] { "ingress", "egress" })
        {
            foreach (var rule in (spec[direction] as JsonArray ?? []).OfType<JsonObject>())
            {
                Protocols(rule["ports"] as JsonArray);
            }
        }
    }

    private static void Protocols(JsonArray? ports)
    {
        foreach (var port in (ports ?? []).OfType<JsonObject>())
        {
            port["protocol"] ??= "TCP";
        }
    }
}
