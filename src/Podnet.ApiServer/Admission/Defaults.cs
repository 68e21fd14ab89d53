using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// Upstream's SetDefaults_* for every kind served (k8s.io/kubernetes pkg/apis/*/v1/defaults.go),
/// with the admission plugins that fill in fields on create (ServiceAccount, Priority,
/// DefaultTolerationSeconds), so a Go client reads back what kube-apiserver would give it.
/// </summary>
internal static partial class Defaults
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
            case "nodes":
                // SetDefaults_NodeStatus: what a node does not say it can allocate is its capacity.
                if (obj["status"] is JsonObject { } nodeStatus && nodeStatus["allocatable"] is null && nodeStatus["capacity"] is JsonObject capacity)
                {
                    nodeStatus["allocatable"] = capacity.DeepClone();
                }
                break;
            case "pods":
                Pod(obj, old);
                break;
            case "services":
                Service(obj.Child("spec"));
                if (old is null)
                {
                    obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                }
                break;
            case "apps/deployments":
                Deployment(obj, old);
                break;
            case "apps/replicasets":
                obj.Child("spec")["replicas"] ??= 1;
                Template(obj, old);
                break;
            case "apps/statefulsets":
                StatefulSet(obj.Child("spec"));
                Template(obj, old);
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
                foreach (var port in (obj["ports"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    port["name"] ??= "";
                    port["protocol"] ??= "TCP";
                }
                break;
            case "networking.k8s.io/ingressclasses":
                // SetDefaults_IngressClass: parameters without a scope are cluster-scoped.
                if (obj["spec"]?["parameters"] is JsonObject parameters)
                {
                    parameters["scope"] ??= "Cluster";
                }
                break;
            case "networking.k8s.io/servicecidrs" when old is null:
                ServiceRanges.Created(obj);
                break;
            case "networking.k8s.io/ingresses" when old is null:
                obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                break;
            case "rbac.authorization.k8s.io/rolebindings" or "rbac.authorization.k8s.io/clusterrolebindings":
                RoleBinding(obj);
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

    /// <summary>The pod template's defaults and a new object's empty status, for every kind with a template.</summary>
    private static void Template(JsonObject obj, JsonObject? old)
    {
        PodSpec(obj.Child("spec").Child("template").Child("spec"));
        if (old is null)
        {
            obj["status"] = new JsonObject();
        }
    }

    private static void Deployment(JsonObject obj, JsonObject? old)
    {
        var spec = obj.Child("spec");
        spec["replicas"] ??= 1;
        var strategy = spec.Child("strategy");
        strategy["type"] ??= "RollingUpdate";
        if ((string?)strategy["type"] == "RollingUpdate")
        {
            strategy.Child("rollingUpdate")["maxUnavailable"] ??= "25%";
            strategy.Child("rollingUpdate")["maxSurge"] ??= "25%";
        }
        spec["revisionHistoryLimit"] ??= 10;
        spec["progressDeadlineSeconds"] ??= 600;
        Template(obj, old);
    }

    /// <summary>
    /// As upstream's SetDefaults_StatefulSet: the RollingUpdate block (partition 0) only comes
    /// with a defaulted type; maxUnavailable is left unset (its feature gate is off by default).
    /// </summary>
    private static void StatefulSet(JsonObject spec)
    {
        spec["replicas"] ??= 1;
        spec["revisionHistoryLimit"] ??= 10;
        spec["podManagementPolicy"] ??= "OrderedReady";
        var strategy = spec.Child("updateStrategy");
        if (strategy["type"] is null)
        {
            strategy["type"] = "RollingUpdate";
            strategy["rollingUpdate"] ??= new JsonObject();
        }
        if ((string?)strategy["type"] == "RollingUpdate" && strategy["rollingUpdate"] is JsonObject rolling)
        {
            rolling["partition"] ??= 0;
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

    /// <summary>
    /// SetDefaults_Service. A targetPort absent, 0 or "" is the port: client-go sends 0 for an
    /// unset IntOrString. The address families and their policy are the allocator's (as
    /// upstream's REST layer, which knows the cluster's families).
    /// </summary>
    private static void Service(JsonObject spec)
    {
        var affinity = (string?)(spec["sessionAffinity"] ??= "None");
        if (affinity == "None")
        {
            spec.Remove("sessionAffinityConfig");
        }
        else if (affinity == "ClientIP" && spec["sessionAffinityConfig"]?["clientIP"]?["timeoutSeconds"] is null)
        {
            spec["sessionAffinityConfig"] = new JsonObject { ["clientIP"] = new JsonObject { ["timeoutSeconds"] = 10800 } };
        }
        var type = (string?)(spec["type"] ??= "ClusterIP");
        foreach (var port in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            port["protocol"] ??= "TCP";
            if (port["targetPort"] is null || ObjectMeta.Long(port["targetPort"]) == 0 || port["targetPort"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && (string?)v == "")
            {
                port["targetPort"] = port["port"]?.DeepClone();
            }
        }
        var externallyAccessible = type is "NodePort" or "LoadBalancer" || type == "ClusterIP" && spec["externalIPs"] is JsonArray { Count: > 0 };
        if (externallyAccessible)
        {
            spec["externalTrafficPolicy"] ??= "Cluster";
        }
        if (type is "ClusterIP" or "NodePort" or "LoadBalancer")
        {
            spec["internalTrafficPolicy"] ??= "Cluster";
        }
        if (type == "LoadBalancer")
        {
            spec["allocateLoadBalancerNodePorts"] ??= true;
        }
    }

    /// <summary>SetDefaults_RoleBinding and SetDefaults_Subject: the RBAC group for roleRef, users and groups; none for a ServiceAccount.</summary>
    private static void RoleBinding(JsonObject binding)
    {
        if (binding["roleRef"] is JsonObject roleRef && (string?)roleRef["apiGroup"] is null or "")
        {
            roleRef["apiGroup"] = "rbac.authorization.k8s.io";
        }
        foreach (var subject in (binding["subjects"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if ((string?)subject["apiGroup"] is null or "")
            {
                // A ServiceAccount's is "", which upstream leaves out (omitempty): written out, it
                // makes every kubectl apply of an unchanged binding report "configured".
                if ((string?)subject["kind"] is "User" or "Group")
                {
                    subject["apiGroup"] = "rbac.authorization.k8s.io";
                }
                else
                {
                    subject.Remove("apiGroup");
                }
            }
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
