using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Agent.Node;
using Podnet.Agent.Routing;
using Podnet.Agent.Runtime.Volumes;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Runtime;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Runtime;

/// <summary>
/// The kubelet's pod loop for this node: pods bound here in, running pods and their status
/// out. Level-triggered: every pod event, and a tick each second (container exits, restarts,
/// probes, grace periods), runs one sync over all of the node's pods.
/// </summary>
/// <remarks>
/// A sync looks at every pod but writes only what changed: a pod's record goes to disk when its
/// JSON differs from what was saved, and its status to the API when what the runtime knows of it
/// (<see cref="PodFacts"/>) differs from what was last posted. Each of the node's pods changes a
/// few times while hundreds of syncs run, so this keeps a sync's cost in memory. While a pod
/// waits for the node's test server to open its sockets, the pod is looked at again after
/// <see cref="s_serverPoll"/> instead of the next tick, so it turns Ready as soon as it serves.
/// </remarks>
public sealed partial class PodManager(
    AgentOptions options,
    IKubernetes client,
    Informer<V1Pod> pods,
    Informer<V1Service> services,
    Informer<V1Node> nodes,
    PodStarter starter,
    PodNetwork network,
    Probes probes)
{
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_serverPoll = TimeSpan.FromMilliseconds(100);
    private SyncLoop? _loop;
    private readonly Dictionary<string, PodRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PodFacts> _posted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _saved = new(StringComparer.Ordinal);
    private bool _waitingForServer;
    private int _serverPollScheduled;
    private readonly Dictionary<string, DateTime> _terminating = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _retryAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _startFailures = new(StringComparer.Ordinal);
    private readonly PodEvents _events = new(client, options.NodeName, options.Log);
    private readonly PodTokens _tokens = new(client, TimeProvider.System);

    public async Task RunAsync(CancellationToken token)
    {
        _loop = new SyncLoop("pods", (_, ct) => SyncAsync(ct), TimeSpan.FromMilliseconds(20))
        {
            OnError = e => options.Log($"pod sync failed, retrying: {e.Message}"),
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = TimeSpan.FromSeconds(5),
            ResyncPeriod = s_tick,
        };
        _loop.WakeOn(pods).WaitFor(services).WaitFor(nodes);
        await Task.WhenAll(pods.WaitForSyncAsync(token), services.WaitForSyncAsync(token), nodes.WaitForSyncAsync(token));
        foreach (var record in PodRecordStore.LoadAll(options.PodsDirectory))
        {
            _records[record.Uid] = record; // adopted as they are: their network is not touched
            _saved[record.Uid] = PodRecordStore.Serialize(record);
        }
        if (Conflist() is { } conflist)
        {
            network.CollectGarbage(conflist, _records.Keys.ToArray());
        }
        await _loop.RunAsync(token);
    }

    private async Task SyncAsync(CancellationToken token)
    {
        var now = DateTime.UtcNow;
        _waitingForServer = false;
        var mine = pods.Cache.List().Where(p => p.Spec?.NodeName == options.NodeName).ToDictionary(p => p.Metadata.Uid, StringComparer.Ordinal);
        foreach (var gone in _records.Keys.Where(uid => !mine.ContainsKey(uid)).ToArray())
        {
            Remove(_records[gone]);
        }
        // A sandbox whose holder died (the machine restarted, or the lab was stopped with its
        // state kept) is taken down and the pod started again.
        foreach (var dead in _records.Values.Where(r => !Kernel.ProcessSignals.IsAlive(r.HolderPid) || !Kernel.Netns.Exists(r.Netns)).ToArray())
        {
            options.Log($"{dead.Namespace}/{dead.Name}: its sandbox is gone, starting it again");
            Remove(dead);
        }
        // A DEL that failed left its address (and maybe more) behind: a CNI GC with the pods this
        // node runs releases it. Here no start is under way, so every live pod has its record.
        if (network.GarbageDue && Conflist() is { } conflist)
        {
            network.CollectGarbage(conflist, _records.Keys.ToArray());
        }
        var serviceInfos = services.Cache.List().Select(ObjectProjection.ToServiceInfo).ToArray();
        await StartNewPodsAsync(mine.Values, serviceInfos, now, token);
        foreach (var pod in mine.Values)
        {
            if (pod.Metadata.DeletionTimestamp is not null)
            {
                await TerminateAsync(pod, now, token);
                continue;
            }
            if (_records.TryGetValue(pod.Metadata.Uid, out var record))
            {
                await StepContainersAsync(pod, record, serviceInfos, now, token);
                SaveIfChanged(record);
                await PostAsync(pod, Facts(record), token);
            }
        }
        if (_waitingForServer && Interlocked.Exchange(ref _serverPollScheduled, 1) == 0)
        {
            _ = Task.Delay(s_serverPoll, token).ContinueWith(_ =>
            {
                Volatile.Write(ref _serverPollScheduled, 0);
                _loop?.Wake();
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    private void SaveIfChanged(PodRecord record)
    {
        var json = PodRecordStore.Serialize(record);
        if (!_saved.TryGetValue(record.Uid, out var last) || last != json)
        {
            PodRecordStore.Write(options.PodsDirectory, record.Uid, json);
            _saved[record.Uid] = json;
        }
    }

    /// <summary>
    /// Starts the pods that have no sandbox yet, several at a time: most of a start is waiting
    /// for processes (the CNI plugin, the holder), so a node brings up many pods at once.
    /// </summary>
    private async Task StartNewPodsAsync(IEnumerable<V1Pod> pods, IReadOnlyList<ServiceInfo> serviceInfos, DateTime now, CancellationToken token)
    {
        var mineByUid = pods.ToDictionary(p => p.Metadata.Uid, StringComparer.Ordinal);
        var due = pods.Where(p => p.Metadata.DeletionTimestamp is null && !_records.ContainsKey(p.Metadata.Uid) && !IsTerminal(p)
            && !(_retryAt.TryGetValue(p.Metadata.Uid, out var at) && at > now)).ToArray();
        if (due.Length == 0 || Conflist() is not { } conflist)
        {
            return;
        }
        var started = new System.Collections.Concurrent.ConcurrentDictionary<string, PodRecord>();
        var failed = new System.Collections.Concurrent.ConcurrentDictionary<V1Pod, Exception>();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = StartParallelism, CancellationToken = token }, async (pod, ct) =>
        {
            try
            {
                var inputs = await InputsAsync(pod, ct);
                var record = starter.Start(pod, conflist, serviceInfos, inputs);
                if (starter.PlanVolumes(pod).HasProjectedData)
                {
                    record.NextVolumeRefresh = DateTime.UtcNow + s_volumeRefresh;
                }
                started[pod.Metadata.Uid] = record;
                options.Log($"started {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} at {string.Join(", ", record.PodIPs)}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failed[pod] = e;
                options.Log($"cannot start {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}, retrying: {e.Message}");
            }
        });
        foreach (var (uid, record) in started)
        {
            _records[uid] = record;
            _saved[uid] = PodRecordStore.Serialize(record); // the starter saved it
            _retryAt.Remove(uid);
            _startFailures.Remove(uid);
            if (mineByUid.TryGetValue(uid, out var pod))
            {
                await ContainerEventsAsync(pod, record, token);
            }
        }
        foreach (var (pod, error) in failed)
        {
            var uid = pod.Metadata.Uid;
            var failures = _startFailures[uid] = _startFailures.GetValueOrDefault(uid) + 1;
            // As kubelet retries volumes: 2 s doubling to about 2 min.
            _retryAt[uid] = now + TimeSpan.FromSeconds(Math.Min(2 * Math.Pow(2, Math.Min(failures - 1, 6)), 120));
            var (reason, message) = error is VolumeException v
                ? ("FailedMount", $"MountVolume.SetUp failed for volume \"{v.Volume}\" : {v.Message}")
                : ("FailedCreatePodSandBox", $"Failed to create pod sandbox: {error.Message}");
            await _events.WarningAsync(pod, null, reason, message, token);
            await PostAsync(pod, new PodFacts(false, [], HostIP, null, Waiting(pod, message)), token);
        }
    }

    private const int StartParallelism = 8;

    private string HostIP => options.NodeAddresses[0].ToString();

    /// <summary>The node's conflist, or null while the node has no pod CIDR yet.</summary>
    private string? Conflist()
    {
        var node = nodes.Cache.Get(null, options.NodeName);
        if (node is null || ObjectProjection.ToNodeInfo(node).PodCidrs is not { Count: > 0 } cidrs)
        {
            return null;
        }
        var mtu = 0;
        if (options.Routing == RoutingMode.Vxlan)
        {
            using var rt = Kernel.Netlink.RtNetlink.OpenInCurrentNamespace();
            mtu = VxlanPlanner.MtuFor(rt.GetLink(options.Underlay).Mtu, options.NodeAddresses[0]);
        }
        return CniConfigPlanner.Build(cidrs, mtu, options.IpamDirectory);
    }

    private static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    private PodFacts Facts(PodRecord record) => new(
        true,
        record.PodIPs,
        HostIP,
        record.StartTime,
        record.Containers.Select(c => new ContainerFacts(
            c.Key,
            c.Value.Image,
            c.Value.Kind == "waiting" ? ContainerState.Waiting
                : c.Value.ExitCode is not null ? (c.Value.RestartAt is not null ? ContainerState.Waiting : ContainerState.Terminated) : ContainerState.Running,
            c.Value.RestartCount,
            c.Value.Ready,
            c.Value.StartedAt,
            c.Value.ExitCode,
            c.Value.FinishedAt,
            c.Value.Kind == "waiting" ? c.Value.WaitingReason : c.Value.RestartAt is not null ? "CrashLoopBackOff" : null,
            c.Value.Kind == "waiting" || c.Value.RestartAt is null ? c.Value.Error : CrashMessage(record, c.Key, c.Value),
            c.Value.LastExitCode)).ToArray());

    /// <summary>kubelet's CrashLoopBackOff message.</summary>
    private static string CrashMessage(PodRecord record, string container, ContainerRecord state) =>
        $"back-off {Durations(CrashBackoff.Delay(Math.Max(state.RestartCount, 0)))} restarting failed container={container} pod={record.Name}_{record.Namespace}({record.Uid})";

    private static string Durations(TimeSpan span) => span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds}s" : $"{(int)span.TotalSeconds}s";

    private static ContainerFacts[] Waiting(V1Pod pod, string message) =>
        (pod.Spec?.Containers ?? []).Select(c => new ContainerFacts(c.Name, c.Image ?? "", ContainerState.Waiting, 0, false, WaitingReason: "ContainerCreating", Message: message)).ToArray();

    private async Task PostAsync(V1Pod pod, PodFacts facts, CancellationToken token)
    {
        // The Ready condition is checked against the API too: the node lifecycle controller sets
        // it False while this node was cut off, and the facts did not change meanwhile.
        if (_posted.TryGetValue(pod.Metadata.Uid, out var last) && last.SameAs(facts) && PodStatusCalc.ReadyAsPosted(pod, facts))
        {
            return;
        }
        var status = PodStatusCalc.Build(pod, facts, DateTime.UtcNow);
        var json = KubernetesJson.Serialize(new { status });
        try
        {
            await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: token);
            _posted[pod.Metadata.Uid] = facts;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }
    }
}
