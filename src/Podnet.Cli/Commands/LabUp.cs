using System.CommandLine;
using k8s;
using k8s.Models;
using Podnet.Kernel;
using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab up`: builds the lab's namespaces, starts its supervisor (which runs the control
/// plane and one agent per node), and returns once every node is Ready. On a running lab it
/// prints the status; on a stopped lab's state it resumes with every object still in the API.
/// With its own API server and controllers, the lab also runs cluster DNS (<see cref="LabDns"/>)
/// and returns once that answers too.
/// </summary>
internal static class LabUp
{
    /// <summary>
    /// How long the nodes have to become Ready: 3 minutes, or 5 s a node when that is longer
    /// (on two cores each agent's start takes a few CPU seconds, so 100 nodes start in minutes).
    /// </summary>
    private static TimeSpan ReadyTimeout(int nodes) => TimeSpan.FromSeconds(Math.Max(180, 5 * nodes));

    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes.", DefaultValueFactory = _ => 3 };
        var routing = new Option<string>("--routing") { Description = "host-gw or vxlan.", DefaultValueFactory = _ => "host-gw" };
        routing.AcceptOnlyFromAmong("host-gw", "vxlan");
        var architecture = new Option<string>("--architecture") { Description = "island, flat or isolated.", DefaultValueFactory = _ => "island" };
        architecture.AcceptOnlyFromAmong("island", "flat", "isolated");
        var ipFamily = new Option<string>("--ip-family") { Description = "ipv4, ipv6 or dual.", DefaultValueFactory = _ => "ipv4" };
        ipFamily.AcceptOnlyFromAmong("ipv4", "ipv6", "dual");
        var network = new Option<string>("--network") { Description = "Attach the lab to this shared network (1-8 of a-z, 0-9), made by the first lab that joins it." };
        var podCidr = new Option<string>("--pod-cidr") { Description = "The cluster's pod CIDR(s), one per family, comma-separated (default 10.244.0.0/16, fd00:10:244::/56)." };
        var file = new Option<string>("--filename", "-f") { Description = "A lab file (kind: Lab; schema in examples/lab.schema.json) with the lab's settings." };
        var demo = new Option<bool>("--demo") { Description = "Apply examples/demo.yaml once the lab is up, and say what to try." };
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "Use this existing Kubernetes API server instead of starting Podnet's: the nodes register there, and its address is relayed into the node namespaces." };
        var controllers = new Option<string>("--controllers") { Description = $"Controllers the lab runs, comma-separated: {string.Join(", ", Controllers.Runtime.ControllerManager.AllNames)}, all or none (default: all; none with --kubeconfig)." };
        var nodeGrace = new Option<string>("--node-grace") { Description = "How long a node may go without renewing its Lease before it is marked NotReady (Unknown), like 5s (default 40s, as upstream)." };
        var policyDeny = new Option<string>("--policy-deny") { Description = "What NetworkPolicy does with denied traffic: drop (default) or reject." };
        policyDeny.AcceptOnlyFromAmong("drop", "reject");
        var command = new Command("up", "Bring up a lab: fabric, control plane, outside host and nodes, each a network namespace.")
        {
            name, nodes, routing, architecture, ipFamily, network, podCidr, file, demo, kubeconfig, controllers, nodeGrace, policyDeny,
        };
        command.SetAction(async (parse, token) =>
        {
            LabSettings? fromFile = null;
            if (parse.GetValue(file) is { } path)
            {
                try
                {
                    fromFile = LabFile.Parse(File.ReadAllText(path));
                }
                catch (Exception e) when (e is FormatException or IOException)
                {
                    Console.Error.WriteLine($"podnet lab: {path}: {e.Message}");
                    return 2;
                }
            }
            if (LabCommand.StateOf(fromFile?.Name is { } fileName && parse.GetResult(name) is null or { Implicit: true } ? fileName : parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            if (state.SupervisorPid is not null)
            {
                Console.Error.WriteLine($"podnet lab: {state.Name} is already running");
                return LabStatus.Print(state, json: false);
            }
            var settings = state.Exists
                ? state.LoadSettings()
                : fromFile is not null ? fromFile with { Name = state.Name }
                : new LabSettings
                {
                    Name = state.Name, Nodes = parse.GetValue(nodes), Routing = parse.GetValue(routing)!, Architecture = parse.GetValue(architecture)!,
                    IpFamily = parse.GetValue(ipFamily)!, Network = parse.GetValue(network), PodCidr = parse.GetValue(podCidr),
                };
            if (!state.Exists)
            {
                settings = settings with
                {
                    ExternalKubeconfig = parse.GetValue(kubeconfig) is { } k ? Path.GetFullPath(k) : settings.ExternalKubeconfig,
                    Controllers = parse.GetValue(controllers) ?? settings.Controllers,
                    NodeGrace = parse.GetValue(nodeGrace) ?? settings.NodeGrace,
                    PolicyDeny = parse.GetValue(policyDeny) ?? settings.PolicyDeny,
                };
            }
            try
            {
                if (settings.NodeGrace is { } grace)
                {
                    LabSettings.CheckNodeGrace(grace);
                }
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"podnet lab: --node-grace: {e.Message}");
                return 2;
            }
            try
            {
                _ = Controllers.Runtime.ControllerManager.ParseList(settings.EffectiveControllers);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"podnet lab: --controllers: {e.Message}");
                return 2;
            }
            if (!state.Exists && settings.ExternalKubeconfig is { } external && !await CheckExternalAsync(state, external, token))
            {
                return 1;
            }
            var resuming = state.Exists;
            if (Plan(state, ref settings) is not { } plan)
            {
                return 2;
            }
            Console.Error.WriteLine(resuming ? $"podnet lab: resuming {state.Name} from {state.Directory}" : $"podnet lab: building {state.Name} with {settings.Nodes} nodes");
            try
            {
                LabBuilder.Down(state.Name); // whatever a crashed run left
                LabBuilder.Up(plan, line => Console.Error.WriteLine($"  {line}"));
            }
            catch (Exception e) when (e is KernelException or NftException or IOException)
            {
                Console.Error.WriteLine($"podnet lab: cannot build the lab: {e.Message}");
                LabBuilder.Down(state.Name);
                NetworkState.Leave(state.Name, keepSlot: false);
                return 1;
            }
            StartSupervisor(state);
            Console.Error.WriteLine("podnet lab: control plane and agents starting");
            if (!await WaitReadyAsync(state, plan.Nodes.Select(n => n.Name).ToHashSet(), token))
            {
                Console.Error.WriteLine($"podnet lab: the nodes did not become Ready within {ReadyTimeout(plan.Nodes.Count).TotalMinutes:0.#} minutes; logs are in {Path.Combine(state.Directory, "logs")}");
                return 1;
            }
            if (LabDns.Runs(settings) && !await LabDns.EnsureAsync(state, plan, settings, token))
            {
                Console.Error.WriteLine($"podnet lab: logs are in {Path.Combine(state.Directory, "logs")}");
                return 1;
            }
            if (parse.GetValue(demo) && !await Demo.ApplyAsync(state, token))
            {
                return 1;
            }
            Console.WriteLine($"lab {state.Name} is up: {settings.Nodes} nodes Ready");
            Console.WriteLine($"kubeconfig: {state.Kubeconfig}");
            Console.WriteLine($"web view: ./podnet lab ui{(state.Name == LabName.Default ? "" : $" --name {state.Name}")}   # serves a live picture of the lab on 127.0.0.1 and prints its URL");
            Demo.PrintWhatToTry(state, parse.GetValue(demo));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Plans the lab and saves its settings; on a shared network the lab's slot is allocated
    /// first and the settings saved under the network's lock. Null (with the error printed)
    /// when the settings or the network refuse the lab, and then nothing is made or saved.
    /// </summary>
    private static LabPlan? Plan(LabState state, ref LabSettings settings)
    {
        try
        {
            var plan = LabPlanner.Build(settings.ToSpec());
            if (settings.Network is not { } network)
            {
                state.SaveSettings(settings);
                return plan;
            }
            var planned = settings;
            var request = new NetworkAllocation(state.Name, 0, planned.Architecture, plan.ClusterCidrs.Select(c => c.ToString()).ToArray());
            NetworkState.Join(network, request, planned.NetworkSlot, slot =>
            {
                planned = planned with { NetworkSlot = slot };
                LabPlanner.Build(planned.ToSpec());
                state.SaveSettings(planned);
            });
            settings = planned;
            return LabPlanner.Build(settings.ToSpec());
        }
        catch (Exception e) when (e is ArgumentException or IOException or TimeoutException or KernelException)
        {
            Console.Error.WriteLine($"podnet lab: {e.Message}");
            return null;
        }
    }

    /// <summary>Starts `podnet lab supervise` in a session of its own, logging to the lab's directory.</summary>
    private static void StartSupervisor(LabState state)
    {
        var podnet = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where the podnet binary is");
        using var process = ProcessSignals.StartDetached(null, "/bin/sh",
            ["-c", "exec \"$0\" lab supervise --name \"$1\" >>\"$2\" 2>&1 </dev/null", podnet, state.Name, state.SupervisorLog]);
        File.WriteAllText(state.SupervisorPidPath, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// `--kubeconfig`: the existing API server must answer before anything is built; its
    /// kubeconfig is copied into the lab's state, which is what the lab uses from then on.
    /// </summary>
    private static async Task<bool> CheckExternalAsync(LabState state, string kubeconfig, CancellationToken token)
    {
        try
        {
            var config = KubeconfigFile.Load(kubeconfig);
            _ = Lab.Supervision.ApiForwarder.ResolveServer(new Uri(config.Host));
            using var client = new Kubernetes(config);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var version = await client.Version.GetCodeAsync(timeout.Token);
            Console.Error.WriteLine($"podnet lab: using the API server at {config.Host} (Kubernetes {version.GitVersion})");
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UriFormatException or HttpRequestException
            or k8s.Autorest.HttpOperationException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            Console.Error.WriteLine($"podnet lab: --kubeconfig {kubeconfig}: cannot use that API server: {e.Message}");
            return false;
        }
        Directory.CreateDirectory(state.Directory);
        File.Copy(kubeconfig, state.ExternalKubeconfigCopy, overwrite: true);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(state.ExternalKubeconfigCopy, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return true;
    }

    /// <summary>Waits until every node of the lab (by name: an existing API server may have others) is Ready.</summary>
    private static async Task<bool> WaitReadyAsync(LabState state, IReadOnlySet<string> nodes, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout(nodes.Count);
        // One client for the whole wait: a new one per look cost a TLS handshake and a kubeconfig
        // read every 250 ms, enough to keep this process re-compiling its hot paths (perf: `lab up`
        // took 1.2 CPU s, as much as an agent, while the agents and the server started beside it).
        Kubernetes? client = null;
        try
        {
            return await WaitReadyAsync(state, nodes, deadline, () => client ??= new Kubernetes(KubeconfigFile.Load(state.Kubeconfig)), () =>
            {
                client?.Dispose();
                client = null;
            }, token);
        }
        finally
        {
            client?.Dispose();
        }
    }

    private static async Task<bool> WaitReadyAsync(LabState state, IReadOnlySet<string> nodes, DateTime deadline, Func<Kubernetes> client, Action reset, CancellationToken token)
    {
        var last = "";
        while (DateTime.UtcNow < deadline && !token.IsCancellationRequested)
        {
            if (state.SupervisorPid is null)
            {
                Console.Error.WriteLine($"podnet lab: the supervisor stopped; see {state.SupervisorLog}");
                return false;
            }
            if (File.Exists(state.Kubeconfig))
            {
                try
                {
                    var list = await client().CoreV1.ListNodeAsync(cancellationToken: token);
                    var ready = list.Items.Count(n => nodes.Contains(n.Metadata.Name) && IsReady(n));
                    var line = $"podnet lab: {ready}/{nodes.Count} nodes Ready";
                    if (line != last)
                    {
                        Console.Error.WriteLine(line);
                        last = line;
                    }
                    if (ready >= nodes.Count)
                    {
                        return true;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or IOException or k8s.Exceptions.KubeConfigException)
                {
                    // Not up yet (or a kubeconfig half there): start afresh at the next look.
                    reset();
                }
            }
            await Task.Delay(250, token);
        }
        return false;
    }

    public static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
}
