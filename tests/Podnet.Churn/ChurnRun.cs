using System.Diagnostics;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.Churn;

/// <param name="Cycles">Churn cycles (1,000 in the full run).</param>
/// <param name="Faults">Faults in all (at least one of each kind).</param>
/// <param name="Seed">Seeds the workload's and the faults' choices: a run can be replayed.</param>
public sealed record ChurnOptions(int Cycles, int Faults, int Seed, TimeSpan SettleLimit);

/// <param name="Pids">The process each figure was read from: a process a fault killed comes back with a new pid and fresh memory.</param>
public sealed record MemorySample(string Stage, IReadOnlyDictionary<string, long> AnonKiB, IReadOnlyDictionary<string, int> Pids);

public sealed record ChurnReport(
    int Cycles,
    IReadOnlyList<FaultEvent> Faults,
    int FailedWrites,
    IReadOnlyList<Breach> Breaches,
    double SettleSeconds,
    IReadOnlyList<MemorySample> Memory,
    TimeSpan Elapsed)
{
    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine($"churn: {Cycles} cycles in {Elapsed.TotalSeconds:0} s, {Faults.Count} faults, {FailedWrites} workload writes refused or lost during faults");
        foreach (var group in Faults.GroupBy(f => f.Kind).OrderBy(g => g.Key))
        {
            text.AppendLine($"  {group.Key,-16} {group.Count(),4}");
        }
        text.AppendLine($"settled {SettleSeconds:0.0} s after the last fault; invariant breaches: {Breaches.Count}");
        foreach (var breach in Breaches)
        {
            text.AppendLine("  BREACH " + breach);
        }
        text.AppendLine("anonymous RSS (MiB):  " + string.Join("  ", Memory.Select(m => $"{m.Stage,8}")));
        foreach (var process in Memory.SelectMany(m => m.AnonKiB.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            text.Append($"  {process,-18}");
            foreach (var sample in Memory)
            {
                text.Append(sample.AnonKiB.TryGetValue(process, out var kib) ? $"  {kib / 1024.0,8:0.0}" : "         -");
            }
            text.AppendLine();
        }
        var grown = MemoryGrowth();
        text.AppendLine($"memory bound (end at most {MemoryBound:0.0} x middle, processes no fault restarted since middle): {(grown.Count == 0 ? "held" : "BROKEN")}");
        foreach (var (process, middle, end) in grown)
        {
            text.AppendLine($"  GREW {process}: {middle / 1024.0:0.0} MiB at middle, {end / 1024.0:0.0} MiB at end (+{(end - middle) * 100.0 / middle:0} %)");
        }
        return text.ToString();
    }

    /// <summary>The issue's bound: anonymous RSS at the end at most 10 % above the middle.</summary>
    public const double MemoryBound = 1.1;

    /// <summary>
    /// The processes whose anonymous RSS at the end is over <see cref="MemoryBound"/> times the
    /// middle's. Only a process sampled at both with the same pid is judged: one a fault killed
    /// after the middle started again with fresh memory, which says nothing either way.
    /// </summary>
    public IReadOnlyList<(string Process, long MiddleKiB, long EndKiB)> MemoryGrowth()
    {
        if (Memory.FirstOrDefault(m => m.Stage == "middle") is not { } middle || Memory.FirstOrDefault(m => m.Stage == "end") is not { } end)
        {
            return [];
        }
        return [.. middle.AnonKiB
            .Where(m => end.AnonKiB.TryGetValue(m.Key, out var kib) && kib > m.Value * MemoryBound
                && middle.Pids.TryGetValue(m.Key, out var before) && end.Pids.TryGetValue(m.Key, out var after) && before == after)
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => (m.Key, m.Value, end.AnonKiB[m.Key]))];
    }
}

/// <summary>
/// The churn run: a workload in namespace churn (a Deployment of test servers behind a Service
/// and a NetworkPolicy, a Deployment of sleepers, bare pods, pods that crash and restart, a
/// client pod resolving the Service through cluster DNS), changed every cycle while the
/// scheduled faults land; then everything the faults took away is given back, and the
/// invariants are checked until they hold (the settle time) or the limit passes.
/// </summary>
public sealed class ChurnRun(ChurnLab lab, ChurnOptions options, Action<string> log)
{
    private const string Ns = ChurnLab.Namespace;
    private readonly Random _random = new(options.Seed);
    private readonly List<FaultEvent> _faults = [];
    private readonly List<string> _bare = [];
    private readonly List<string> _crashers = [];
    private Action? _undo;
    private int _failedWrites;

    private Kubernetes Client => lab.Client;

    public async Task<ChurnReport> RunAsync(string rootBefore)
    {
        var clock = Stopwatch.StartNew();
        await SetUpAsync();
        var memory = new List<MemorySample> { SampleMemory("start") };
        var schedule = FaultSchedule.Build(options.Cycles, options.Faults, _random);
        for (var cycle = 0; cycle < options.Cycles; cycle++)
        {
            await StepAsync(cycle);
            UndoPending();
            if (schedule.TryGetValue(cycle, out var kind))
            {
                await InjectAsync(kind, cycle);
            }
            if (cycle == options.Cycles / 2)
            {
                memory.Add(SampleMemory("middle"));
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300 + _random.Next(700)));
        }
        UndoPending();
        var lastFault = DateTime.UtcNow;
        await TryAsync(() => ScaleAsync("web", 3));
        await TryAsync(() => ScaleAsync("sleepers", 2));
        var addresses = lab.Status["nodes"]!.AsArray().ToDictionary(n => (string)n!["name"]!, n => IPAddress.Parse((string)n!["address"]!));
        var checker = new InvariantChecker(lab.Name, () => Client, addresses, rootBefore);
        IReadOnlyList<Breach> breaches = [];
        var deadline = DateTime.UtcNow + options.SettleLimit;
        var settled = double.NaN;
        while (true)
        {
            try
            {
                breaches = await Settled() ? await checker.CheckAsync(Ns, "client") : [new Breach("settled", Ns, "the Deployments are not all Ready")];
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
            {
                breaches = [new Breach("settled", "API", e.Message)];
            }
            if (breaches.Count == 0)
            {
                settled = (DateTime.UtcNow - lastFault).TotalSeconds;
                break;
            }
            if (DateTime.UtcNow > deadline)
            {
                break;
            }
            log($"not settled yet ({breaches.Count} breaches, first: {breaches[0]})");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        memory.Add(SampleMemory("end"));
        var integrity = lab.CheckDatabase();
        log($"SQLite integrity_check: {integrity}");
        if (integrity != "ok")
        {
            breaches = [.. breaches, new Breach("sqlite", lab.Database, "integrity_check: " + integrity)];
        }
        return new ChurnReport(options.Cycles, _faults, _failedWrites, breaches, settled, memory, clock.Elapsed);
    }

    private async Task SetUpAsync()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } });
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 3, new V1Container
        {
            Name = "web",
            Image = "registry.k8s.io/e2e-test-images/agnhost:2.53",
            Args = ["netexec", "--http-port=8080", "--udp-port=-1"],
            Ports = [new V1ContainerPort { ContainerPort = 8080 }],
        }), Ns);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("sleepers", 2, Sleeper("sleep")), Ns);
        await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, Ns);
        // The web pods take traffic only from the client, on their port: the policy engine
        // has pods coming and going under a policy all the time.
        await Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "web-from-client" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule
                {
                    FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "client" } } }],
                    Ports = [new V1NetworkPolicyPort { Port = 8080, Protocol = "TCP" }],
                }],
            },
        }, Ns);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("client", "client", Sleeper("sleep")), Ns);
        ChurnLab.WaitUntil(() => Settled().GetAwaiter().GetResult() && PodRunning("client"), TimeSpan.FromMinutes(3), "the churn workload did not start");
        log("workload up: web x3 behind Service web and a NetworkPolicy, sleepers x2, client");
    }

    private static V1Container Sleeper(string name) => new() { Name = name, Image = "busybox", Command = ["sleep", "100000"] };

    private static V1Pod Pod(string name, string app, V1Container container) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec { Containers = [container], TerminationGracePeriodSeconds = 2 },
    };

    private static V1Deployment Deployment(string name, int replicas, V1Container container) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [container], TerminationGracePeriodSeconds = 2 },
            },
        },
    };

    private bool PodRunning(string name)
    {
        try
        {
            return Client.CoreV1.ReadNamespacedPod(name, Ns).Status?.Phase == "Running";
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> Settled()
    {
        var deployments = (await Client.AppsV1.ListNamespacedDeploymentAsync(Ns)).Items;
        var pods = (await Client.CoreV1.ListNamespacedPodAsync(Ns)).Items;
        return deployments.All(d => d.Status?.ReadyReplicas == d.Spec.Replicas && d.Status?.Replicas == d.Spec.Replicas)
            && pods.All(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase == "Running");
    }

    /// <summary>One cycle's changes: two of scale web, scale sleepers, a bare pod, a crashing pod; and the client asking DNS and the Service.</summary>
    private async Task StepAsync(int cycle)
    {
        for (var i = 0; i < 2; i++)
        {
            switch (_random.Next(4))
            {
                case 0:
                    await TryAsync(() => ScaleAsync("web", 1 + _random.Next(5)));
                    break;
                case 1:
                    await TryAsync(() => ScaleAsync("sleepers", 1 + _random.Next(3)));
                    break;
                case 2:
                    await ChurnPodAsync(_bare, $"bare-{cycle}-{i}", Sleeper("sleep"));
                    break;
                default:
                    await ChurnPodAsync(_crashers, $"crash-{cycle}-{i}", new V1Container { Name = "crash", Image = "busybox", Command = ["sh", "-c", "sleep 1; exit 3"] });
                    break;
            }
        }
        Ask();
    }

    private async Task ChurnPodAsync(List<string> pods, string name, V1Container container)
    {
        if (await TryAsync(() => Client.CoreV1.CreateNamespacedPodAsync(Pod(name, "churn", container), Ns)))
        {
            pods.Add(name);
        }
        if (pods.Count > 2)
        {
            var old = pods[0];
            if (await TryAsync(() => Client.CoreV1.DeleteNamespacedPodAsync(old, Ns)))
            {
                pods.RemoveAt(0);
            }
        }
    }

    /// <summary>The client resolves web through cluster DNS and asks it through its ClusterIP (answers may fail while faults last).</summary>
    private void Ask()
    {
        V1Pod? client;
        try
        {
            client = Client.CoreV1.ListNamespacedPod(Ns, fieldSelector: "metadata.name=client").Items.FirstOrDefault();
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
        {
            return; // the API is away (a fault): no question this cycle
        }
        if (client?.Status?.Phase != "Running")
        {
            return;
        }
        using var netns = Netns.Open(InvariantChecker.PodNetns(lab.Name, client.Spec.NodeName, client.Metadata.Uid));
        var ip = ProcessRunner.Run(netns, "dig", ["+short", "+time=2", "+tries=1", "@10.96.0.10", $"web.{Ns}.svc.cluster.local"]).StandardOutput.Trim();
        if (ip.Length > 0)
        {
            ProcessRunner.Run(netns, "curl", ["-s", "--max-time", "2", $"http://{ip}/hostname"]);
        }
    }

    private Task ScaleAsync(string deployment, int replicas) =>
        Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), deployment, Ns);

    /// <summary>A write of the workload: during a fault the API may refuse it or be away; counted, not fatal.</summary>
    private async Task<bool> TryAsync(Func<Task> write)
    {
        try
        {
            await write();
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
        {
            _failedWrites++;
            return false;
        }
    }

    private void Record(FaultKind kind, string detail)
    {
        var fault = new FaultEvent(DateTimeOffset.UtcNow, kind, detail);
        _faults.Add(fault);
        log(fault.ToString());
    }

    private void UndoPending()
    {
        var undo = _undo;
        _undo = null;
        undo?.Invoke();
    }

    private string RandomNode() => lab.Nodes[_random.Next(lab.Nodes.Count)];

    /// <summary>A fault on a random node that a later step undoes: `podnet lab …` to do it now, and again to undo it; <paramref name="done"/> and <paramref name="undone"/> follow the node's name in the log.</summary>
    private void Toggle(FaultKind kind, string[] doVerb, string done, string[] undoVerb, string undone)
    {
        var node = RandomNode();
        var result = lab.Podnet([.. doVerb, node, "--name", lab.Name]);
        Record(kind, $"{node}{done}{(result.Success ? "" : ": " + result.StandardError.Trim())}");
        _undo = () =>
        {
            var back = lab.Podnet([.. undoVerb, node, "--name", lab.Name]);
            log($"{DateTime.UtcNow:HH:mm:ss.fff} {node}{undone}{(back.Success ? "" : ": " + back.StandardError.Trim())}");
        };
    }

    private async Task InjectAsync(FaultKind kind, int cycle)
    {
        switch (kind)
        {
            case FaultKind.AgentKill:
            {
                var node = RandomNode();
                var pid = WaitForProcess(() => lab.Pid($"agent-{node}"));
                Record(kind, pid is { } p && ProcessSignals.Kill(p, ProcessSignals.SigKill) ? $"agent-{node} pid {p}" : $"agent-{node} not running within 60 s");
                break;
            }
            case FaultKind.ApiServerKill:
            {
                var pid = WaitForProcess(() => lab.Pid("control-plane"));
                Record(kind, pid is { } p && ProcessSignals.Kill(p, ProcessSignals.SigKill) ? $"pid {p}" : "not running within 60 s");
                break;
            }
            case FaultKind.ControllersKill:
            {
                // The API server starts them as its child: after a kill of the server they come back with it.
                var pid = WaitForProcess(() => lab.Pid("control-plane") is { } server && ProcFs.Children(server).FirstOrDefault(c => ProcFs.CommandLine(c).Contains(" controllers", StringComparison.Ordinal)) is var child and > 0 ? child : null);
                Record(kind, pid is { } p && ProcessSignals.Kill(p, ProcessSignals.SigKill) ? $"pid {p}" : "not running within 60 s");
                break;
            }
            case FaultKind.CniAddKill:
            {
                // The plugin may finish before the delay: armed again (shorter) until a kill lands, at most four times.
                var outcomes = new List<string>();
                for (var attempt = 0; attempt < 4 && !outcomes.LastOrDefault("").StartsWith("killed", StringComparison.Ordinal); attempt++)
                {
                    var delay = _random.Next(1, 12) / (attempt + 1) + 1;
                    File.WriteAllText(Path.Combine(lab.CniFaultDirectory, "ADD"), delay.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    await ChurnPodAsync(_bare, $"bare-{cycle}-add{attempt}", Sleeper("sleep"));
                    outcomes.Add(CniOutcome("ADD"));
                }
                Record(kind, string.Join("; ", outcomes));
                break;
            }
            case FaultKind.CniDelKill:
            {
                var outcomes = new List<string>();
                for (var attempt = 0; attempt < 4 && !outcomes.LastOrDefault("").StartsWith("killed", StringComparison.Ordinal); attempt++)
                {
                    var delay = _random.Next(1, 12) / (attempt + 1) + 1;
                    File.WriteAllText(Path.Combine(lab.CniFaultDirectory, "DEL"), delay.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (_bare.Count > 0 && await TryAsync(() => Client.CoreV1.DeleteNamespacedPodAsync(_bare[0], Ns)))
                    {
                        _bare.RemoveAt(0);
                    }
                    else
                    {
                        await TryAsync(() => ScaleAsync("sleepers", 1));
                    }
                    outcomes.Add(CniOutcome("DEL"));
                }
                Record(kind, string.Join("; ", outcomes));
                break;
            }
            case FaultKind.PodProcessKill:
            {
                V1Pod? pod = null;
                await TryAsync(async () => pod = (await Client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=sleepers")).Items.FirstOrDefault(p => p.Status?.Phase == "Running"));
                var killed = new List<int>();
                if (pod is not null)
                {
                    var netns = InvariantChecker.PodNetns(lab.Name, pod.Spec.NodeName, pod.Metadata.Uid);
                    foreach (var pid in ProcFs.InNetns(netns).Where(p => ProcFs.CommandLine(p) == "sleep 100000"))
                    {
                        if (ProcessSignals.Kill(pid, ProcessSignals.SigKill))
                        {
                            killed.Add(pid);
                        }
                    }
                }
                Record(kind, pod is null ? "no running sleeper" : $"{pod.Metadata.Name}: pids {string.Join(',', killed)}");
                break;
            }
            case FaultKind.NodeStopStart:
                Toggle(kind, ["lab", "node", "stop"], " stopped", ["lab", "node", "start"], " started");
                break;
            case FaultKind.LinkDownUp:
                Toggle(kind, ["lab", "link", "down"], "'s link down", ["lab", "link", "up"], "'s link up");
                break;
            case FaultKind.DiskFull:
            {
                lab.FillDisk();
                // SQLite may still have room in pages it already holds: writes of 256 KiB until one is refused (at most 8).
                var accepted = 0;
                while (accepted < 8 && await TryAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
                {
                    Metadata = new V1ObjectMeta { Name = $"full-{cycle}-{accepted}" },
                    Data = new Dictionary<string, string> { ["fill"] = new string('x', 256 << 10) },
                }, Ns)))
                {
                    accepted++;
                }
                Record(kind, $"API server's tmpfs full; {accepted} writes accepted, {(accepted < 8 ? "then one refused" : "none refused")}");
                _undo = () =>
                {
                    lab.FreeDisk();
                    log($"{DateTime.UtcNow:HH:mm:ss.fff} API server's disk freed");
                };
                break;
            }
        }
    }

    /// <summary>Waits (at most 60 s) for a process a kill before may have taken away, as the supervisor starts it again.</summary>
    private static int? WaitForProcess(Func<int?> find)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (find() is { } pid || DateTime.UtcNow > deadline)
            {
                return find();
            }
            Thread.Sleep(200);
        }
    }

    /// <summary>Waits (bounded) for the wrapper to take the armed fault; says whether the kill landed mid-call.</summary>
    private string CniOutcome(string command)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var done = Directory.GetFiles(lab.CniFaultDirectory, command + ".*.done");
            if (done.Length > 0)
            {
                var text = File.ReadAllText(done[0]).Trim();
                foreach (var file in Directory.GetFiles(lab.CniFaultDirectory, command + ".*"))
                {
                    File.Delete(file);
                }
                return text;
            }
            Thread.Sleep(100);
        }
        File.Delete(Path.Combine(lab.CniFaultDirectory, command));
        return "no call came within 20 s (disarmed)";
    }

    private MemorySample SampleMemory(string stage)
    {
        var sample = new Dictionary<string, long>(StringComparer.Ordinal);
        var sampled = new Dictionary<string, int>(StringComparer.Ordinal);
        var pids = Path.Combine(lab.State, "pids");
        foreach (var file in Directory.GetFiles(pids, "*.pid"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (lab.Pid(name) is { } pid && ProcFs.AnonymousRssKiB(pid) is { } kib)
            {
                sample[name == "control-plane" ? "apiserver" : name] = kib;
                sampled[name == "control-plane" ? "apiserver" : name] = pid;
                if (name == "control-plane" && ProcFs.Children(pid).FirstOrDefault(c => ProcFs.CommandLine(c).Contains(" controllers", StringComparison.Ordinal)) is var child and > 0
                    && ProcFs.AnonymousRssKiB(child) is { } controllers)
                {
                    sample["controllers"] = controllers;
                    sampled["controllers"] = child;
                }
            }
        }
        return new MemorySample(stage, sample, sampled);
    }
}
