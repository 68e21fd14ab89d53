using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Agent.Proxy;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Policy;
using Podnet.Proxy;

namespace Podnet.Ui;

/// <summary>
/// Keeps <see cref="UiState"/> in step with the lab's API server: one informer (list, then
/// watch) per kind the page draws, and a probe of /version once a second for the "connection
/// lost" banner. Reads only.
/// </summary>
/// <remarks>
/// The API has no field for the node that announces a LoadBalancer address: every agent
/// computes it alike (<see cref="AnnouncementCalc"/> over <see cref="Announcer.Candidates"/>),
/// so the view computes it the same way from the same objects, and recomputes the Services
/// whenever nodes, Services or EndpointSlices change. Unchanged projections are not sent.
/// </remarks>
internal sealed class UiWatcher(IKubernetes client, UiState state, string clusterDomain, Action<string>? log)
{
    private readonly Informer<V1Node> _nodes = new(ListWatches.Nodes(client), Options(log));
    private readonly Informer<V1Pod> _pods = new(ListWatches.Pods(client), Options(log));
    private readonly Informer<V1Service> _services = new(ListWatches.Services(client), Options(log));
    private readonly Informer<V1EndpointSlice> _slices = new(ListWatches.EndpointSlices(client), Options(log));
    private readonly Informer<V1NetworkPolicy> _policies = new(ListWatches.NetworkPolicies(client), Options(log));
    private readonly Informer<V1Namespace> _namespaces = new(ListWatches.Namespaces(client), Options(log));
    private readonly Informer<Agent.Policy.ClusterNetworkPolicyObject> _clusterPolicies = new(new Agent.Policy.ClusterNetworkPolicyListWatch(client), Options(log));
    private readonly Lock _servicesLock = new();

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    public Task RunAsync(CancellationToken token)
    {
        Mirror(_nodes, UiProjection.Nodes, UiProjection.Node, RefreshServices);
        Mirror(_pods, UiProjection.Pods, UiProjection.Pod, null);
        Mirror(_slices, UiProjection.EndpointSlices, UiProjection.EndpointSlice, RefreshServices);
        Mirror(_policies, UiProjection.NetworkPolicies, UiProjection.NetworkPolicy, null);
        Mirror(_namespaces, UiProjection.Namespaces, UiProjection.Namespace, null);
        Mirror(_clusterPolicies, UiProjection.ClusterNetworkPolicies, p => UiProjection.ClusterNetworkPolicy(p.Metadata, p.Spec), null);
        _services.AddHandlers(new InformerHandlers<V1Service>(
            _ => RefreshServices(),
            (_, _) => RefreshServices(),
            s => state.Delete(UiProjection.Services, UiProjection.Key(s.Metadata))));
        return Task.WhenAll(
            _nodes.RunAsync(token), _pods.RunAsync(token), _services.RunAsync(token), _slices.RunAsync(token),
            _policies.RunAsync(token), _namespaces.RunAsync(token), _clusterPolicies.RunAsync(token), ProbeAsync(token), PollFlowsAsync(token));
    }

    /// <summary>
    /// The policy view of one pod (<c>/policy?pod=NS/NAME</c>): <see cref="PolicyReach"/> over the
    /// pods, namespaces, NetworkPolicies and ClusterNetworkPolicies the informers hold, as JSON. Null when there is no
    /// such running pod with an address.
    /// </summary>
    public string? PolicyJson(string podKey, PolicyDeny deny)
    {
        var pods = _pods.Cache.List().Select(ObjectProjection.ToPodInfo).ToArray();
        var snapshot = new PolicySnapshot(
            _policies.Cache.List().Select(ObjectProjection.ToNetworkPolicyInfo).ToArray(), pods,
            _namespaces.Cache.List().Select(ObjectProjection.ToNamespaceInfo).ToArray(),
            _clusterPolicies.Cache.List().Select(p => ObjectProjection.ToClusterNetworkPolicyInfo(p.Metadata.Name ?? "", p.Spec)).ToArray());
        var families = pods.SelectMany(p => p.Addresses).Select(a => a.AddressFamily).Distinct().ToArray();
        ReachReport report;
        try
        {
            report = PolicyReach.For(snapshot, families, deny, podKey);
        }
        catch (ArgumentException)
        {
            return null;
        }
        static JsonArray Entries(IEnumerable<ReachEntry> entries) => new(entries.Select(e => (JsonNode)new JsonObject
        {
            ["peer"] = e.Peer,
            ["port"] = e.Port,
            ["protocol"] = e.Protocol,
            ["allowed"] = e.Result.Allowed,
            ["verdict"] = e.Result.Verdict,
            ["egress"] = Side(e.Result.Egress),
            ["ingress"] = Side(e.Result.Ingress),
            ["explanation"] = string.Join("\n", e.Result.Lines()),
        }).ToArray());
        static JsonObject Side(CheckSide side) => new()
        {
            ["pod"] = side.Pod,
            ["isolating"] = new JsonArray(side.Isolating.Select(i => (JsonNode)i).ToArray()),
            ["allowed"] = side.Allowed,
            ["rule"] = side.Rule,
        };
        return new JsonObject
        {
            ["pod"] = report.Pod,
            ["defaultPort"] = PolicyReach.DefaultPort,
            ["inbound"] = Entries(report.Inbound),
            ["outbound"] = Entries(report.Outbound),
        }.ToJsonString();
    }

    public static readonly TimeSpan FlowInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Live flows: once a second, each Ready node's <c>/podnet/flows</c> through the API server's
    /// nodes/NAME/proxy (the root namespace has no route into the lab), projected against the
    /// pods and Services the informers hold. A node that does not answer keeps what it showed
    /// last; a node that is gone or not Ready loses its flows.
    /// </summary>
    private async Task PollFlowsAsync(CancellationToken token)
    {
        var shown = new Dictionary<string, (HashSet<string> Flows, HashSet<string> Drops)>(StringComparer.Ordinal);
        while (!token.IsCancellationRequested)
        {
            var nodes = _nodes.Cache.List();
            var ready = nodes.Where(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true).Select(n => n.Metadata.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in shown.Keys.Where(n => !ready.Contains(n)).ToArray())
            {
                Replace(shown, gone, [], []);
            }
            var lookup = FlowLookup.From(_pods.Cache.List(), _services.Cache.List(), nodes);
            await Task.WhenAll(ready.Select(async node =>
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(3));
                    var text = await client.CoreV1.ConnectGetNodeProxyWithPathAsync(node, "podnet/flows", cancellationToken: timeout.Token).ConfigureAwait(false);
                    if (JsonNode.Parse(text) is { } document)
                    {
                        lock (shown)
                        {
                            Replace(shown, node, FlowProjection.ProjectFlows(node, document, lookup).ToList(), FlowProjection.ProjectDrops(node, document).ToList());
                        }
                    }
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    log?.Invoke($"flows of {node}: {e.Message}");
                }
            })).ConfigureAwait(false);
            try
            {
                await Task.Delay(FlowInterval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Replace(Dictionary<string, (HashSet<string> Flows, HashSet<string> Drops)> shown, string node, IReadOnlyList<(string Key, JsonObject Value)> flows, IReadOnlyList<(string Key, JsonObject Value)> drops)
    {
        var before = shown.GetValueOrDefault(node, ([], []));
        var now = (Flows: flows.Select(f => f.Key).ToHashSet(StringComparer.Ordinal), Drops: drops.Select(d => d.Key).ToHashSet(StringComparer.Ordinal));
        foreach (var (kind, items, old, fresh) in new[] { (FlowProjection.Flows, flows, before.Flows, now.Flows), (FlowProjection.Drops, drops, before.Drops, now.Drops) })
        {
            foreach (var key in old.Where(k => !fresh.Contains(k)))
            {
                state.Delete(kind, key);
            }
            foreach (var (key, value) in items)
            {
                state.Upsert(kind, key, value);
            }
        }
        if (flows.Count == 0 && drops.Count == 0)
        {
            shown.Remove(node);
        }
        else
        {
            shown[node] = now;
        }
    }

    private void Mirror<T>(Informer<T> informer, string kind, Func<T, JsonObject> project, Action? then)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.AddHandlers(new InformerHandlers<T>(
            o =>
            {
                state.Upsert(kind, UiProjection.Key(o.Metadata), project(o));
                then?.Invoke();
            },
            (_, o) =>
            {
                state.Upsert(kind, UiProjection.Key(o.Metadata), project(o));
                then?.Invoke();
            },
            o =>
            {
                state.Delete(kind, UiProjection.Key(o.Metadata));
                then?.Invoke();
            }));
    }

    /// <summary>Re-projects every Service with the announcing node of each external address.</summary>
    private void RefreshServices()
    {
        lock (_servicesLock)
        {
            var services = _services.Cache.List();
            var infos = services.Select(ObjectProjection.ToServiceInfo).ToArray();
            var slices = _slices.Cache.List().Select(ObjectProjection.ToEndpointSliceInfo).OfType<Core.Cluster.EndpointSliceInfo>().ToArray();
            var candidates = Announcer.Candidates(_nodes.Cache.List());
            var announcers = new Dictionary<IPAddress, string>();
            foreach (var node in candidates)
            {
                foreach (var address in AnnouncementCalc.Mine(node, infos, s => slices.Where(e => e.Namespace == s.Namespace && e.ServiceName == s.Name).ToArray(), candidates))
                {
                    announcers[address] = node;
                }
            }
            foreach (var service in services)
            {
                state.Upsert(UiProjection.Services, UiProjection.Key(service.Metadata), UiProjection.Service(service, clusterDomain, announcers));
            }
        }
    }

    private async Task ProbeAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await client.Version.GetCodeAsync(timeout.Token).ConfigureAwait(false);
                state.SetConnection(true, null);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                state.SetConnection(false, e is OperationCanceledException ? "the API server did not answer within 3 s" : e.Message);
            }
            try
            {
                await Task.Delay(ProbeInterval, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static InformerOptions Options(Action<string>? log) => new()
    {
        MaxBackoff = TimeSpan.FromSeconds(5),
        OnError = e => log?.Invoke($"watch: {e.Message}"),
    };
}
