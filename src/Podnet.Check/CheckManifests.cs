using k8s.Models;

namespace Podnet.Check;

/// <summary>Where the check's pods go: two nodes for the pod-to-pod tests, and a node without a DNS endpoint.</summary>
public sealed record CheckPlacement(string NodeA, string NodeB, string? NoDnsNode);

/// <summary>
/// The check's objects, pure: the namespace, its pods (each the built-in test server, agnhost
/// netexec on 8080, bound to its node by nodeName so placement does not depend on the
/// scheduler), the Services and the NetworkPolicy pair.
/// </summary>
/// <remarks>
/// One Service of type LoadBalancer gives the ClusterIP, NodePort and LoadBalancer tests at
/// once. The policies exist before any pod is created, so the guarded pods are isolated from
/// their first packet and the deny test cannot race the policy engine.
/// </remarks>
public static class CheckManifests
{
    public const string Image = "registry.k8s.io/e2e-test-images/agnhost:2.53";
    public const string NamespaceLabel = "podnet.io/check";

    public static CheckPlacement Place(IReadOnlyList<string> readyNodes, IReadOnlySet<string> dnsNodes)
    {
        if (readyNodes.Count == 0)
        {
            throw new InvalidOperationException("no Ready node to run the check's pods on");
        }
        var sorted = readyNodes.Order(StringComparer.Ordinal).ToArray();
        // A sits beside a DNS endpoint when there is one, B preferably on a node without, so both paths are tried.
        var a = sorted.FirstOrDefault(dnsNodes.Contains) ?? sorted[0];
        var others = sorted.Where(n => n != a).ToArray();
        var b = others.FirstOrDefault(n => !dnsNodes.Contains(n)) ?? others.FirstOrDefault() ?? a;
        var noDns = dnsNodes.Contains(b) || b == a ? sorted.FirstOrDefault(n => !dnsNodes.Contains(n)) : null;
        return new CheckPlacement(a, b, noDns == b ? null : noDns);
    }

    public static V1Namespace Namespace(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [NamespaceLabel] = "true" } },
    };

    public static IReadOnlyList<V1Pod> Pods(string ns, CheckPlacement placement)
    {
        var pods = new List<V1Pod>
        {
            Pod(ns, CheckPlanner.Client, placement.NodeA, "client"),
            Pod(ns, CheckPlanner.ServerA, placement.NodeA, CheckPlanner.Web),
            Pod(ns, CheckPlanner.ServerB, placement.NodeB, CheckPlanner.Web),
            Pod(ns, CheckPlanner.GuardAllow, placement.NodeB, CheckPlanner.GuardAllow),
            Pod(ns, CheckPlanner.GuardDeny, placement.NodeB, CheckPlanner.GuardDeny),
        };
        if (placement.NoDnsNode is { } node)
        {
            pods.Add(Pod(ns, CheckPlanner.NoDnsClient, node, "probe"));
        }
        return pods;
    }

    public static IReadOnlyList<V1Service> Services(string ns) =>
    [
        Service(ns, CheckPlanner.Web, "LoadBalancer", CheckPlanner.Web),
        // Selects no pod: a Service without endpoints, which the proxy rejects.
        Service(ns, CheckPlanner.Empty, "ClusterIP", "nothing"),
    ];

    public static IReadOnlyList<V1NetworkPolicy> Policies(string ns) =>
    [
        new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "allow-client", NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = Selector(CheckPlanner.GuardAllow),
                PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { PodSelector = Selector("client") }] }],
            },
        },
        new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny-all", NamespaceProperty = ns },
            Spec = new V1NetworkPolicySpec { PodSelector = Selector(CheckPlanner.GuardDeny), PolicyTypes = ["Ingress"] },
        },
    ];

    private static V1LabelSelector Selector(string app) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = app } };

    private static V1Pod Pod(string ns, string name, string node, string app) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec
        {
            NodeName = node,
            TerminationGracePeriodSeconds = 0,
            Containers =
            [
                new V1Container
                {
                    Name = "netexec",
                    Image = Image,
                    Args = ["netexec", "--http-port=" + CheckPlanner.ServerPort, "--udp-port=" + CheckPlanner.UdpServerPort],
                    Ports =
                    [
                        new V1ContainerPort { ContainerPort = CheckPlanner.ServerPort },
                        new V1ContainerPort { ContainerPort = CheckPlanner.UdpServerPort, Protocol = "UDP" },
                    ],
                },
            ],
        },
    };

    private static V1Service Service(string ns, string name, string type, string app) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
        Spec = new V1ServiceSpec
        {
            Type = type,
            Selector = new Dictionary<string, string> { ["app"] = app },
            Ports =
            [
                new V1ServicePort { Name = "http", Port = CheckPlanner.ServicePort, TargetPort = CheckPlanner.ServerPort, Protocol = "TCP" },
                // A second protocol on the same Service (mixed-protocol LoadBalancer, GA since 1.26): UDP through the ClusterIP.
                new V1ServicePort { Name = "udp", Port = CheckPlanner.UdpServicePort, TargetPort = CheckPlanner.UdpServerPort, Protocol = "UDP" },
            ],
        },
    };
}
