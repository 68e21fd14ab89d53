using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;

namespace Podnet.Ui;

/// <summary>
/// The slim JSON the page draws, one object per API object: only what the view shows, so an
/// update that changes nothing visible (a Lease-driven status heartbeat, a managedFields
/// rewrite) projects to the same text and is not sent. Pure: no I/O, no clock.
/// </summary>
internal static class UiProjection
{
    public const string Nodes = "nodes";
    public const string Pods = "pods";
    public const string Services = "services";
    public const string EndpointSlices = "endpointslices";
    public const string NetworkPolicies = "networkpolicies";
    public const string ClusterNetworkPolicies = "clusternetworkpolicies";
    public const string Namespaces = "namespaces";

    public static string Key(V1ObjectMeta meta) => string.IsNullOrEmpty(meta.NamespaceProperty) ? meta.Name : $"{meta.NamespaceProperty}/{meta.Name}";

    public static JsonObject Node(V1Node node) => new()
    {
        ["name"] = node.Metadata.Name,
        ["addresses"] = Strings((node.Status?.Addresses ?? []).Where(a => a.Type == "InternalIP").Select(a => a.Address)),
        ["podCIDRs"] = Strings(node.Spec?.PodCIDRs is { Count: > 0 } list ? list : node.Spec?.PodCIDR is { } one ? [one] : []),
        // Ready's status as the API has it: True, False or Unknown (a node that stopped renewing its Lease).
        ["ready"] = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status ?? "Unknown",
        ["unschedulable"] = node.Spec?.Unschedulable == true,
        ["zone"] = node.Metadata.Labels?.TryGetValue("topology.kubernetes.io/zone", out var zone) == true ? zone : null,
    };

    public static JsonObject Pod(V1Pod pod) => new()
    {
        ["namespace"] = pod.Metadata.NamespaceProperty,
        ["name"] = pod.Metadata.Name,
        ["node"] = pod.Spec?.NodeName,
        ["ips"] = Strings(pod.Status?.PodIPs is { Count: > 0 } ips ? ips.Select(i => i.Ip) : pod.Status?.PodIP is { } ip ? [ip] : []),
        ["hostNetwork"] = pod.Spec?.HostNetwork == true,
        ["phase"] = pod.Status?.Phase ?? "Pending",
        ["ready"] = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
        ["deleting"] = pod.Metadata.DeletionTimestamp is not null,
        ["labels"] = Labels(pod.Metadata.Labels),
    };

    /// <summary>A Service, with the node that announces each of its external addresses (<paramref name="announcers"/>: address → node).</summary>
    public static JsonObject Service(V1Service service, string clusterDomain, IReadOnlyDictionary<IPAddress, string> announcers)
    {
        var spec = service.Spec ?? new V1ServiceSpec();
        var clusterIPs = spec.ClusterIPs is { Count: > 0 } ips ? ips : spec.ClusterIP is { } one ? [one] : [];
        var ingress = (service.Status?.LoadBalancer?.Ingress ?? []).Where(i => i.Ip is not null).Select(i => i.Ip).ToArray();
        var announced = new JsonObject();
        foreach (var address in ingress.Concat(spec.ExternalIPs ?? []).Distinct())
        {
            if (IPAddress.TryParse(address, out var parsed) && announcers.TryGetValue(parsed, out var node))
            {
                announced[address] = node;
            }
        }
        var type = spec.Type ?? "ClusterIP";
        return new JsonObject
        {
            ["namespace"] = service.Metadata.NamespaceProperty,
            ["name"] = service.Metadata.Name,
            ["type"] = type,
            ["headless"] = clusterIPs.Contains("None"),
            ["clusterIPs"] = Strings(clusterIPs.Where(i => i != "None")),
            ["externalName"] = spec.ExternalName,
            ["externalIPs"] = Strings(spec.ExternalIPs ?? []),
            ["loadBalancerIPs"] = Strings(ingress),
            ["announcedBy"] = announced,
            ["ports"] = new JsonArray((spec.Ports ?? []).Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p.Name,
                ["port"] = p.Port,
                ["protocol"] = p.Protocol ?? "TCP",
                ["targetPort"] = p.TargetPort?.Value,
                ["nodePort"] = p.NodePort,
            }).ToArray()),
            ["selector"] = Labels(spec.Selector),
            ["dns"] = $"{service.Metadata.Name}.{service.Metadata.NamespaceProperty}.svc.{clusterDomain}",
        };
    }

    public static JsonObject EndpointSlice(V1EndpointSlice slice) => new()
    {
        ["namespace"] = slice.Metadata.NamespaceProperty,
        ["name"] = slice.Metadata.Name,
        ["service"] = slice.Metadata.Labels?.TryGetValue("kubernetes.io/service-name", out var service) == true ? service : null,
        ["addressType"] = slice.AddressType,
        ["endpoints"] = new JsonArray((slice.Endpoints ?? []).Select(e => (JsonNode)new JsonObject
        {
            ["addresses"] = Strings(e.Addresses ?? []),
            ["ready"] = e.Conditions?.Ready != false,
            ["node"] = e.NodeName,
            ["pod"] = e.TargetRef?.Kind == "Pod" ? e.TargetRef.Name : null,
        }).ToArray()),
        ["ports"] = new JsonArray((slice.Ports ?? []).Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["port"] = p.Port, ["protocol"] = p.Protocol ?? "TCP" }).ToArray()),
    };

    public static JsonObject NetworkPolicy(V1NetworkPolicy policy) => new()
    {
        ["namespace"] = policy.Metadata.NamespaceProperty,
        ["name"] = policy.Metadata.Name,
        ["podSelector"] = Labels(policy.Spec?.PodSelector?.MatchLabels),
        ["policyTypes"] = Strings(policy.Spec?.PolicyTypes ?? (policy.Spec?.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"])),
        ["ingressRules"] = policy.Spec?.Ingress?.Count ?? 0,
        ["egressRules"] = policy.Spec?.Egress?.Count ?? 0,
    };

    /// <summary>A ClusterNetworkPolicy as the Table view lists it: tier, priority, rule counts.</summary>
    public static JsonObject ClusterNetworkPolicy(V1ObjectMeta metadata, JsonObject? spec) => new()
    {
        ["name"] = metadata.Name,
        ["tier"] = (string?)spec?["tier"],
        ["priority"] = spec?["priority"] is JsonValue priority && priority.TryGetValue<long>(out var p) ? p : null,
        ["ingressRules"] = (spec?["ingress"] as JsonArray)?.Count ?? 0,
        ["egressRules"] = (spec?["egress"] as JsonArray)?.Count ?? 0,
    };

    public static JsonObject Namespace(V1Namespace ns) => new()
    {
        ["name"] = ns.Metadata.Name,
        ["phase"] = ns.Status?.Phase ?? "Active",
    };

    private static JsonArray Strings(IEnumerable<string?> values) => new(values.OfType<string>().Select(v => (JsonNode)v).ToArray());

    private static JsonObject Labels(IDictionary<string, string>? labels) =>
        new((labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
}
