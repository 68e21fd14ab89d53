using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Check.Trace;

/// <summary>
/// One `podnet trace`: marks the pod's packets with a short-lived table of its own in every
/// node namespace of the lab (<see cref="TracePlan"/>), listens with `nft monitor` there,
/// sends one real TCP request from the pod (curl), then reads the source node's conntrack
/// entry and asks each node's kernel for its route, and deletes its tables whatever happened.
/// </summary>
/// <remarks>
/// Each monitor is known to listen when it has printed the "add table" of trace's own table,
/// added after it started, so the request is never sent before it can be seen. Trace lines
/// keep coming a moment after the request ends; they are read until none has come for 300 ms.
/// </remarks>
public sealed class TraceRunner(IKubernetes client, LabProbeExec exec, IReadOnlyDictionary<string, string> nodeNetns)
{
    private static readonly TimeSpan s_monitorReady = TimeSpan.FromSeconds(10);

    public async Task<TraceReport> RunAsync(string ns, string podName, TraceTarget target, CancellationToken token)
    {
        var pod = await client.CoreV1.ReadNamespacedPodAsync(podName, ns, cancellationToken: token);
        if (pod.Status?.PodIP is not { } ipText || pod.Spec?.NodeName is not { } node)
        {
            throw new InvalidOperationException($"pod {ns}/{podName} has no address or node yet");
        }
        exec.Know([pod]);
        var podIp = IPAddress.Parse(ipText);
        (string, string)? resolved = null;
        if (!IPAddress.TryParse(target.Host, out var destination))
        {
            var dig = new Probe(ProbeSite.InPod(podName), ProbeKind.DnsSearch, target.Host, TimeSpan.FromSeconds(5));
            var answer = await exec.RunAsync(dig.From, ProbeCommands.Argv(dig), dig.Timeout, token);
            destination = answer.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Select(l => IPAddress.TryParse(l, out var a) ? a : null).FirstOrDefault(a => a is not null)
                ?? throw new InvalidOperationException($"{target.Host} did not resolve in pod {ns}/{podName}: {answer.StandardOutput.Trim()} {answer.StandardError.Trim()}");
            resolved = (target.Host, destination.ToString());
        }
        var service = await ServiceOfAsync(destination, target.Port, token);
        var id = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2)).ToLowerInvariant();
        var table = TracePlan.TableName(id);
        var monitors = new Dictionary<string, (Netns Netns, NftMonitor Monitor)>(StringComparer.Ordinal);
        Observation result;
        ConntrackEntry? entry;
        try
        {
            foreach (var (name, netnsName) in nodeNetns)
            {
                var netns = Netns.Open(netnsName);
                var monitor = NftMonitor.Start(netns);
                monitors[name] = (netns, monitor);
                Nft.Apply(netns, TracePlan.AddScript(table, podIp, target.Protocol));
            }
            foreach (var (name, (netns, monitor)) in monitors)
            {
                await WaitUntilListeningAsync(name, netns, monitor, table, token);
            }
            var url = target.Url;
            if (resolved is not null)
            {
                url = url.Replace("://" + target.Host, "://" + (destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{destination}]" : destination.ToString()), StringComparison.Ordinal);
            }
            var probe = new Probe(ProbeSite.InPod(podName), ProbeKind.Http, url, TimeSpan.FromSeconds(5));
            result = ProbeCommands.Read(probe, await exec.RunAsync(probe.From, ProbeCommands.Argv(probe), probe.Timeout, token));
            foreach (var (_, (_, monitor)) in monitors)
            {
                await monitor.DrainAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(3), token);
            }
            // This request's entry, not an earlier one in TIME_WAIT: its source port is the one the trace saw.
            var sport = SourcePort(monitors[node].Monitor.Lines, podIp);
            entry = Conntrack.List(monitors[node].Netns).FirstOrDefault(e => e.Protocol == target.Protocol && e.OriginalSource.Equals(podIp)
                && e.OriginalDestination.Equals(destination) && e.OriginalDestinationPort == target.Port && (sport is null || e.OriginalSourcePort == sport));
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
        var path = new List<string> { node };
        if (owner?.Spec?.NodeName is { } far && far != node && nodeNetns.ContainsKey(far))
        {
            path.Add(far);
        }
        var evidence = new List<NodeEvidence>();
        foreach (var n in path)
        {
            var lines = monitors[n].Monitor.Lines.Select(NftTraceLine.Parse).OfType<NftTraceLine>().ToArray();
            evidence.Add(new NodeEvidence(n, lines, RouteOf(nodeNetns[n], endpoint, podIp, lines)));
        }
        var facts = new TraceFacts
        {
            Pod = $"{ns}/{podName}",
            PodNode = node,
            PodIp = podIp,
            Destination = destination,
            Port = target.Port,
            Resolved = resolved,
            Service = service,
            Conntrack = entry,
            EndpointPod = owner is null ? null : $"{owner.Metadata.NamespaceProperty}/{owner.Metadata.Name} on {owner.Spec.NodeName}",
            Nodes = evidence,
        };
        return new TraceReport($"{ns}/{podName} ({podIp} on {node})", $"{target.Host}:{target.Port}/{target.Protocol}", TraceExplainer.Explain(facts), result);
    }

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

    /// <summary>The Service the API says owns address:port (ClusterIP, LoadBalancer address or a node's NodePort), as text.</summary>
    private async Task<string?> ServiceOfAsync(IPAddress address, int port, CancellationToken token)
    {
        var services = (await client.CoreV1.ListServiceForAllNamespacesAsync(cancellationToken: token)).Items;
        var nodeAddresses = (await client.CoreV1.ListNodeAsync(cancellationToken: token)).Items.SelectMany(n => n.Status?.Addresses ?? []).Select(a => a.Address).ToHashSet();
        var text = address.ToString();
        foreach (var s in services)
        {
            foreach (var p in s.Spec?.Ports ?? [])
            {
                var name = $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name} port {p.Port}/{p.Protocol ?? "TCP"}";
                if (p.Port == port && (s.Spec!.ClusterIPs ?? [s.Spec.ClusterIP]).Contains(text))
                {
                    return name + " (ClusterIP)";
                }
                if (p.Port == port && s.Status?.LoadBalancer?.Ingress?.Any(i => i.Ip == text) == true)
                {
                    return name + " (LoadBalancer)";
                }
                if (p.NodePort == port && nodeAddresses.Contains(text))
                {
                    return $"{name} (NodePort {port})";
                }
            }
        }
        return null;
    }

    private async Task<V1Pod?> PodAtAsync(IPAddress address, CancellationToken token)
    {
        var pods = (await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: token)).Items;
        return pods.FirstOrDefault(p => p.Spec?.HostNetwork != true && p.Status?.PodIPs?.Any(i => i.Ip == address.ToString()) == true);
    }

    /// <summary>The node kernel's route for the endpoint, asked as the packet arrived there (its interface from the trace); null when the kernel would not say.</summary>
    private static string? RouteOf(string netnsName, IPAddress endpoint, IPAddress source, IReadOnlyList<NftTraceLine> lines)
    {
        using var netns = Netns.Open(netnsName);
        var first = lines.FirstOrDefault(l => l.Kind == "packet" && l.Text.Contains($"saddr {source} ", StringComparison.Ordinal));
        var iif = first is null ? null : System.Text.RegularExpressions.Regex.Match(first.Text, "iif \"([^\"]+)\"", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)) is { Success: true } m ? m.Groups[1].Value : null;
        string[] arguments = iif is null ? ["-j", "route", "get", endpoint.ToString()] : ["-j", "route", "get", endpoint.ToString(), "from", source.ToString(), "iif", iif];
        var result = ProcessRunner.Run(netns, "ip", arguments, timeout: TimeSpan.FromSeconds(10));
        if (!result.Success || JsonNode.Parse(result.StandardOutput) is not JsonArray { Count: > 0 } routes)
        {
            return null;
        }
        var r = routes[0]!;
        var text = $"{endpoint}{((string?)r["gateway"] is { } gw ? " via " + gw : "")} dev {(string?)r["dev"]}";
        return (string?)r["type"] is { } type && type != "unicast" ? text + " (" + type + ")" : text;
    }
}
