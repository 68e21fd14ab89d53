using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Check.Trace;

/// <summary>
/// One `podnet trace`: marks the sender's packets (a pod's, or the outside host's) with a
/// short-lived table of its own in every node namespace of the lab (<see cref="TracePlan"/>),
/// listens with `nft monitor` there, sends one real request (TCP: curl; UDP: one datagram),
/// then reads the first node's conntrack entry, asks each node's kernel for its routes (the
/// packet's and the reply's) and link layer (<see cref="LinkLayer"/>), and deletes its tables
/// whatever happened.
/// </summary>
/// <remarks>
/// Each monitor is known to listen when it has printed the "add table" of trace's own table,
/// added after it started, so the request is never sent before it can be seen. Trace lines
/// keep coming a moment after the request ends; they are read until none has come for 300 ms.
/// </remarks>
public sealed class TraceRunner(IKubernetes client, LabProbeExec exec, IReadOnlyDictionary<string, string> nodeNetns)
{
    private static readonly TimeSpan s_monitorReady = TimeSpan.FromSeconds(10);

    /// <summary>A trace from a pod (<paramref name="podName"/> in <paramref name="ns"/>), or, when <paramref name="outside"/> is given, from the lab's outside host at that address.</summary>
    public async Task<TraceReport> RunAsync(string ns, string? podName, TraceTarget target, CancellationToken token, IPAddress? outside = null)
    {
        IPAddress source;
        string? node = null;
        ProbeSite site;
        string from;
        if (outside is not null)
        {
            (source, site, from) = (outside, ProbeSite.Outside, $"outside host ({outside})");
        }
        else
        {
            var pod = await client.CoreV1.ReadNamespacedPodAsync(podName, ns, cancellationToken: token);
            if (pod.Status?.PodIP is not { } ipText || pod.Spec?.NodeName is not { } podNode)
            {
                throw new InvalidOperationException($"pod {ns}/{podName} has no address or node yet");
            }
            exec.Know([pod]);
            (source, node, site, from) = (IPAddress.Parse(ipText), podNode, ProbeSite.InPod(podName!), $"{ns}/{podName} ({ipText} on {podNode})");
        }
        (string, string)? resolved = null;
        if (!IPAddress.TryParse(target.Host, out var destination))
        {
            if (outside is not null)
            {
                throw new InvalidOperationException($"from the outside host give an address, not a name ({target.Host}): cluster names resolve inside the cluster");
            }
            var dig = new Probe(site, ProbeKind.DnsSearch, target.Host, TimeSpan.FromSeconds(5));
            var answer = await exec.RunAsync(dig.From, ProbeCommands.Argv(dig), dig.Timeout, token);
            destination = answer.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Select(l => IPAddress.TryParse(l, out var a) ? a : null).FirstOrDefault(a => a is not null)
                ?? throw new InvalidOperationException($"{target.Host} did not resolve in pod {ns}/{podName}: {answer.StandardOutput.Trim()} {answer.StandardError.Trim()}");
            resolved = (target.Host, destination.ToString());
        }
        var (service, serviceEndpoints) = await ServiceOfAsync(destination, target.Port, target.Protocol, token);
        var id = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2)).ToLowerInvariant();
        var table = TracePlan.TableName(id);
        var monitors = new Dictionary<string, (Netns Netns, NftMonitor Monitor)>(StringComparer.Ordinal);
        Observation result;
        ConntrackEntry? entry = null;
        try
        {
            foreach (var (name, netnsName) in nodeNetns)
            {
                var netns = Netns.Open(netnsName);
                var monitor = NftMonitor.Start(netns);
                monitors[name] = (netns, monitor);
                Nft.Apply(netns, TracePlan.AddScript(table, source, target.Protocol));
            }
            foreach (var (name, (netns, monitor)) in monitors)
            {
                await WaitUntilListeningAsync(name, netns, monitor, table, token);
            }
            var hostPort = destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{destination}]:{target.Port}" : $"{destination}:{target.Port}";
            var url = resolved is null ? target.Url : target.Url.Replace("://" + target.Host, "://" + hostPort[..hostPort.LastIndexOf(':')], StringComparison.Ordinal);
            var probe = target.Protocol == "udp"
                ? new Probe(site, ProbeKind.Udp, hostPort, TimeSpan.FromSeconds(5))
                : new Probe(site, ProbeKind.Http, url, TimeSpan.FromSeconds(5));
            result = ProbeCommands.Read(probe, await exec.RunAsync(probe.From, ProbeCommands.Argv(probe), probe.Timeout, token));
            foreach (var (_, (_, monitor)) in monitors)
            {
                await monitor.DrainAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(3), token);
            }
            // From the outside host, the first node is the one that saw the packet and owns the address (NodePort), or any that saw it (a LoadBalancer address's announcer).
            node ??= monitors.Where(m => Saw(m.Value.Monitor.Lines, source)).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key).FirstOrDefault();
            if (node is not null)
            {
                // This request's entry, not an earlier one in TIME_WAIT: its source port is the one the trace saw.
                var sport = SourcePort(monitors[node].Monitor.Lines, source);
                entry = Conntrack.List(monitors[node].Netns).FirstOrDefault(e => e.Protocol == target.Protocol && e.OriginalSource.Equals(source)
                    && e.OriginalDestination.Equals(destination) && e.OriginalDestinationPort == target.Port && (sport is null || e.OriginalSourcePort == sport));
            }
        }
        finally
        {
            foreach (var (_, (netns, monitor)) in monitors)
            {
                monitor.Dispose();
                try
                {
                    Nft.Apply(netns, TracePlan.DeleteScript(table));
                }
                catch (NftException)
                {
                    // Not added there (the add failed first).
                }
                netns.Dispose();
            }
        }
        var endpoint = entry?.ReplySource ?? destination;
        var owner = await PodAtAsync(endpoint, token);
        var path = new List<string>();
        if (node is not null)
        {
            path.Add(node);
        }
        if (owner?.Spec?.NodeName is { } far && far != node && nodeNetns.ContainsKey(far))
        {
            path.Add(far);
        }
        var evidence = new List<NodeEvidence>();
        foreach (var n in path)
        {
            var lines = monitors[n].Monitor.Lines.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
            using var netns = Netns.Open(nodeNetns[n]);
            var first = lines.FirstOrDefault(l => l.Kind == "packet" && l.Text.Contains($"saddr {source} ", StringComparison.Ordinal));
            var (route, hop) = RouteOf(netns, endpoint, source, Iif(first));
            var reply = lines.FirstOrDefault(l => l.Kind == "packet" && l.Text.Contains($"daddr {source} ", StringComparison.Ordinal));
            var replyFrom = reply is null ? null : System.Text.RegularExpressions.Regex.Match(reply.Text, @"ip6? saddr (\S+) ", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)) is { Success: true } rm && IPAddress.TryParse(rm.Groups[1].Value, out var a) ? a : null;
            var replyRoute = replyFrom is null ? null : RouteOf(netns, source, replyFrom, Iif(reply)).Text;
            evidence.Add(new NodeEvidence(n, lines, route, first is null ? null : LinkLayer.Read(netns, first.Text, Iif(first), hop, endpoint), replyRoute));
        }
        var facts = new TraceFacts
        {
            Pod = outside is null ? $"{ns}/{podName}" : "outside",
            PodNode = node ?? "?",
            PodIp = source,
            Destination = destination,
            Port = target.Port,
            Protocol = target.Protocol,
            Resolved = resolved,
            Service = service,
            ServiceEndpoints = serviceEndpoints,
            Conntrack = entry,
            EndpointPod = owner is null ? null : $"{owner.Metadata.NamespaceProperty}/{owner.Metadata.Name} on {owner.Spec.NodeName}",
            Nodes = evidence,
        };
        return new TraceReport(from, $"{target.Host}:{target.Port}/{target.Protocol}", TraceExplainer.Explain(facts), result);
    }

    private static bool Saw(IReadOnlyList<string> lines, IPAddress source) =>
        lines.Select(NftTraceLine.Parse).Any(l => l is { Kind: "packet" } && l.Text.Contains($"saddr {source} ", StringComparison.Ordinal));

    private static string? Iif(NftTraceLine? line) =>
        line is not null && System.Text.RegularExpressions.Regex.Match(line.Text, "iif \"([^\"]+)\"", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>
    /// Waits until the monitor has printed a change to trace's table. A monitor still starting
    /// (it reads the ruleset before it subscribes) misses changes made before, so while it is
    /// silent an empty regular chain is added to the table every 500 ms, which it prints once it listens.
    /// </summary>
    private static async Task WaitUntilListeningAsync(string node, Netns netns, NftMonitor monitor, string table, CancellationToken token)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 0; !await monitor.WaitForAsync(l => l.Contains($" inet {table}", StringComparison.Ordinal), TimeSpan.FromMilliseconds(500), token); attempt++)
        {
            if (clock.Elapsed > s_monitorReady)
            {
                throw new TimeoutException($"nft monitor on {node} did not report trace's table within {s_monitorReady.TotalSeconds} s");
            }
            Nft.Apply(netns, $"add chain inet {table} ready{attempt}\n");
        }
    }

    private static int? SourcePort(IReadOnlyList<string> lines, IPAddress pod) =>
        lines.Select(NftTraceLine.Parse).FirstOrDefault(l => l is { Kind: "packet" } && l.Text.Contains($"saddr {pod} ", StringComparison.Ordinal)) is { } first
            && System.Text.RegularExpressions.Regex.Match(first.Text, @"(?:tcp|udp|th) sport (\d+)", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)) is { Success: true } m
            ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>
    /// The Service the API says owns address:port/protocol (ClusterIP, LoadBalancer address or a
    /// node's NodePort), as text, and how many ready endpoints its EndpointSlices hold.
    /// </summary>
    private async Task<(string? Service, int? Endpoints)> ServiceOfAsync(IPAddress address, int port, string protocol, CancellationToken token)
    {
        var services = (await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: token)).Items;
        var nodeAddresses = (await client.CoreV1.ListNodeAsync(cancellationToken: token)).Items.SelectMany(n => n.Status?.Addresses ?? []).Select(a => a.Address).ToHashSet();
        var text = address.ToString();
        foreach (var s in services)
        {
            foreach (var p in (s.Spec?.Ports ?? []).Where(p => string.Equals(p.Protocol ?? "TCP", protocol, StringComparison.OrdinalIgnoreCase)))
            {
                var name = $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name} port {p.Port}/{p.Protocol ?? "TCP"}";
                string? found = null;
                if (p.Port == port && (s.Spec!.ClusterIPs ?? [s.Spec.ClusterIP]).Contains(text))
                {
                    found = name + " (ClusterIP)";
                }
                else if (p.Port == port && s.Status?.LoadBalancer?.Ingress?.Any(i => i.Ip == text) == true)
                {
                    found = name + " (LoadBalancer)";
                }
                else if (p.NodePort == port && nodeAddresses.Contains(text))
                {
                    found = $"{name} (NodePort {port})";
                }
                if (found is not null)
                {
                    var slices = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(s.Metadata.NamespaceProperty, labelSelector: "kubernetes.io/service-name=" + s.Metadata.Name, cancellationToken: token);
                    return (found, slices.Items.SelectMany(e => e.Endpoints ?? []).Count(e => e.Conditions?.Ready != false));
                }
            }
        }
        return (null, null);
    }

    private async Task<V1Pod?> PodAtAsync(IPAddress address, CancellationToken token)
    {
        var pods = (await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: token)).Items;
        return pods.FirstOrDefault(p => p.Spec?.HostNetwork != true && p.Status?.PodIPs?.Any(i => i.Ip == address.ToString()) == true);
    }

    /// <summary>
    /// The node kernel's route to <paramref name="to"/>, asked as the packet arrived there (from its
    /// source, on its interface from the trace): the text, and the route as ip's JSON for the link layer; nulls when the kernel would not say.
    /// </summary>
    private static (string? Text, JsonNode? Route) RouteOf(Netns netns, IPAddress to, IPAddress source, string? iif)
    {
        string[] arguments = iif is null ? ["-j", "route", "get", to.ToString()] : ["-j", "route", "get", to.ToString(), "from", source.ToString(), "iif", iif];
        var result = ProcessRunner.Run(netns, "ip", arguments, timeout: TimeSpan.FromSeconds(10));
        if (!result.Success || JsonNode.Parse(result.StandardOutput) is not JsonArray { Count: > 0 } routes)
        {
            return (null, null);
        }
        var r = routes[0]!;
        var text = $"{to}{((string?)r["gateway"] is { } gw ? " via " + gw : "")} dev {(string?)r["dev"]}";
        return ((string?)r["type"] is { } type && type != "unicast" ? text + " (" + type + ")" : text, r);
    }
}
