using System.Globalization;

namespace Podnet.Check;

/// <summary>
/// What the check found in the cluster once its pods run: their addresses and nodes, the
/// Service's addresses, the nodes' addresses, where DNS has endpoints, and the lab's
/// architecture and outside host (null on a cluster that is not a lab).
/// </summary>
public sealed record CheckFacts
{
    public required string Namespace { get; init; }

    public required string ClusterDomain { get; init; }

    /// <summary>Check pod name → (node, pod IP).</summary>
    public required IReadOnlyDictionary<string, (string Node, string Ip)> Pods { get; init; }

    /// <summary>Node name → its address on the node network.</summary>
    public required IReadOnlyDictionary<string, string> NodeAddresses { get; init; }

    public required string? KubernetesServiceIp { get; init; }

    public required string? WebClusterIp { get; init; }

    public required string? EmptyClusterIp { get; init; }

    public required int? WebNodePort { get; init; }

    public required string? WebLoadBalancerIp { get; init; }

    /// <summary>Nodes with a Ready endpoint of kube-system/kube-dns.</summary>
    public required IReadOnlySet<string> DnsNodes { get; init; }

    /// <summary>island, flat or isolated; null when not known (not a lab).</summary>
    public string? Architecture { get; init; }

    /// <summary>The outside host's address (lab); outside tests are skipped without it.</summary>
    public string? OutsideAddress { get; init; }
}

/// <summary>
/// The tests, as a pure function of <see cref="CheckFacts"/>. A test whose expected outcome is
/// a drop gets the short timeout (a drop is only ever seen as silence, so the check waits for
/// it no longer than it must); every other test gets the long one, so a loaded machine is not
/// mistaken for a dropping one.
/// </summary>
public static class CheckPlanner
{
    public const string Client = "client";
    public const string ServerA = "server-a";
    public const string ServerB = "server-b";
    public const string GuardAllow = "guard-allow";
    public const string GuardDeny = "guard-deny";
    public const string NoDnsClient = "probe-nodns";
    public const string Web = "web";
    public const string Empty = "empty";
    public const int ServerPort = 8080;
    public const int ServicePort = 80;
    public const int UdpServerPort = 8081;
    public const int UdpServicePort = 81;

    public static TimeSpan LongTimeout { get; } = TimeSpan.FromSeconds(8);

    public static TimeSpan ShortTimeout { get; } = TimeSpan.FromSeconds(2);

    public static IReadOnlyList<CheckCase> Build(CheckFacts facts)
    {
        var client = ProbeSite.InPod(Client);
        var cases = new List<CheckCase>();
        var (clientNode, _) = facts.Pods[Client];
        cases.Add(Http("pod-to-pod/same-node", Outcome.Connect, client, Url(facts.Pods[ServerA].Ip, ServerPort, "/hostname")));
        var otherNode = facts.Pods[ServerB].Node != clientNode;
        cases.Add(otherNode
            ? Http("pod-to-pod/other-node", Outcome.Connect, client, Url(facts.Pods[ServerB].Ip, ServerPort, "/hostname"))
            : CheckCase.Skip("pod-to-pod/other-node", Outcome.Connect, "one node only"));
        cases.Add(facts.KubernetesServiceIp is { } api
            ? Http("service/kubernetes", Outcome.Connect, client, "https://" + HostPort(api, 443) + "/version")
            : CheckCase.Skip("service/kubernetes", Outcome.Connect, "no default/kubernetes Service"));
        cases.Add(facts.WebClusterIp is { } web
            ? Http("service/cluster-ip", Outcome.Connect, client, Url(web, ServicePort, "/hostname"))
            : CheckCase.Skip("service/cluster-ip", Outcome.Connect, "the Service has no ClusterIP"));
        cases.Add(facts.WebClusterIp is { } webUdp
            ? new CheckCase("service/cluster-ip-udp", Outcome.Connect, new Probe(client, ProbeKind.Udp, HostPort(webUdp, UdpServicePort), LongTimeout))
            : CheckCase.Skip("service/cluster-ip-udp", Outcome.Connect, "the Service has no ClusterIP"));
        cases.Add(facts.EmptyClusterIp is { } empty
            ? Http("service/no-endpoints", Outcome.Refuse, client, Url(empty, ServicePort, "/hostname"))
            : CheckCase.Skip("service/no-endpoints", Outcome.Refuse, "the Service has no ClusterIP"));
        AddNodePort(facts, cases, client, clientNode);
        AddLoadBalancer(facts, cases, client);
        AddDns(facts, cases, client);
        cases.Add(Http("policy/allow", Outcome.Connect, client, Url(facts.Pods[GuardAllow].Ip, ServerPort, "/hostname")));
        cases.Add(Http("policy/deny", Outcome.Drop, client, Url(facts.Pods[GuardDeny].Ip, ServerPort, "/hostname")));
        AddEgress(facts, cases, client);
        cases.Add(otherNode
            ? new CheckCase("mtu/other-node", Outcome.Connect, new Probe(client, ProbeKind.PingFullMtu, facts.Pods[ServerB].Ip, LongTimeout))
            : CheckCase.Skip("mtu/other-node", Outcome.Connect, "one node only"));
        return cases;
    }

    private static void AddNodePort(CheckFacts facts, List<CheckCase> cases, ProbeSite client, string clientNode)
    {
        if (facts.WebNodePort is not { } port)
        {
            cases.Add(CheckCase.Skip("service/node-port", Outcome.Connect, "the Service has no NodePort"));
            cases.Add(CheckCase.Skip("service/node-port-outside", Outcome.Connect, "the Service has no NodePort"));
            return;
        }
        // From inside: another node's address if there is one, so the packet leaves the node.
        var inside = facts.NodeAddresses.Where(n => n.Key != clientNode).Select(n => n.Value).FirstOrDefault() ?? facts.NodeAddresses.GetValueOrDefault(clientNode);
        cases.Add(inside is null
            ? CheckCase.Skip("service/node-port", Outcome.Connect, "no node address")
            : Http("service/node-port", Outcome.Connect, client, Url(inside, port, "/hostname")));
        var any = facts.NodeAddresses.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => n.Value).FirstOrDefault();
        cases.Add(facts.OutsideAddress is null || any is null
            ? CheckCase.Skip("service/node-port-outside", Outcome.Connect, "no outside host (not a lab)")
            : Http("service/node-port-outside", Outcome.Connect, ProbeSite.Outside, Url(any, port, "/hostname")));
    }

    private static void AddLoadBalancer(CheckFacts facts, List<CheckCase> cases, ProbeSite client)
    {
        if (facts.WebLoadBalancerIp is not { } lb)
        {
            // The Service asked for one: no address is a failure of the LoadBalancer allocator, shown as an error row.
            cases.Add(CheckCase.Fail("service/load-balancer", Outcome.Connect, "no LoadBalancer address was assigned"));
            cases.Add(CheckCase.Fail("service/load-balancer-outside", Outcome.Connect, "no LoadBalancer address was assigned"));
            return;
        }
        cases.Add(Http("service/load-balancer", Outcome.Connect, client, Url(lb, ServicePort, "/hostname")));
        cases.Add(facts.OutsideAddress is null
            ? CheckCase.Skip("service/load-balancer-outside", Outcome.Connect, "no outside host (not a lab)")
            : Http("service/load-balancer-outside", Outcome.Connect, ProbeSite.Outside, Url(lb, ServicePort, "/hostname")));
    }

    private static void AddDns(CheckFacts facts, List<CheckCase> cases, ProbeSite client)
    {
        var fqdn = $"{Web}.{facts.Namespace}.svc.{facts.ClusterDomain}";
        cases.Add(new CheckCase("dns/cluster-name", Outcome.Connect, new Probe(client, ProbeKind.Dns, fqdn, LongTimeout, facts.WebClusterIp)));
        cases.Add(new CheckCase("dns/search-path", Outcome.Connect, new Probe(client, ProbeKind.DnsSearch, Web, LongTimeout, facts.WebClusterIp)));
        // A pod on a node without a DNS endpoint: its query must cross to another node.
        var away = facts.Pods.Where(p => !facts.DnsNodes.Contains(p.Value.Node)).OrderBy(p => p.Key == NoDnsClient ? 0 : 1).Select(p => p.Key).FirstOrDefault();
        cases.Add(facts.DnsNodes.Count == 0
            ? CheckCase.Skip("dns/node-without-dns", Outcome.Connect, "kube-system/kube-dns has no ready endpoint")
            : away is null
                ? CheckCase.Skip("dns/node-without-dns", Outcome.Connect, "every node has a DNS endpoint")
                : new CheckCase("dns/node-without-dns", Outcome.Connect, new Probe(ProbeSite.InPod(away), ProbeKind.Dns, fqdn, LongTimeout, facts.WebClusterIp)));
    }

    private static void AddEgress(CheckFacts facts, List<CheckCase> cases, ProbeSite client)
    {
        if (facts.OutsideAddress is not { } outside || facts.Architecture is null)
        {
            cases.Add(CheckCase.Skip("egress/outside", Outcome.Connect, "no outside host (not a lab)"));
            return;
        }
        // island masquerades to the node's address, flat routes pod addresses, isolated rejects (ICMP admin-prohibited).
        var expected = facts.Architecture == "isolated" ? Outcome.Refuse : Outcome.Connect;
        cases.Add(new CheckCase("egress/outside", expected, new Probe(client, ProbeKind.Ping, outside, LongTimeout)));
    }

    private static CheckCase Http(string name, Outcome expected, ProbeSite from, string url) =>
        new(name, expected, new Probe(from, ProbeKind.Http, url, expected == Outcome.Drop ? ShortTimeout : LongTimeout));

    private static string Url(string host, int port, string path) => "http://" + HostPort(host, port) + path;

    private static string HostPort(string host, int port) =>
        (host.Contains(':') ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether a test name is selected by --test: a pattern with '*' is a glob over the whole
    /// name, one without is a part of it ("dns" selects every dns/… test).
    /// </summary>
    public static bool Matches(string name, string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return true;
        }
        if (!pattern.Contains('*'))
        {
            return name.Contains(pattern, StringComparison.OrdinalIgnoreCase);
        }
        var regex = "^" + string.Join(".*", pattern.Split('*').Select(System.Text.RegularExpressions.Regex.Escape)) + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(name, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
    }
}
