using System.CommandLine;
using System.Runtime.InteropServices;
using Podnet.Lab.State;
using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab supervise` (started by `lab up`, detached): runs the lab's control plane (or,
/// with an existing API server, the relay to it and the chosen controllers), then, once there
/// is a kubeconfig for the nodes, every node's agent and test server, restarting any that
/// dies, until SIGTERM.
/// </summary>
internal static class LabSupervise
{
    /// <summary>
    /// Flat architecture: the outside host is the broader network's router, so it learns a route
    /// to every node's pod CIDR via that node (through the lab's router for nodes in other
    /// subnets, which learns them too), from the Node objects, as nodes come and go.
    /// </summary>
    private static async Task RouteOutsideAsync(LabState state, LabPlan plan, Action<string> log, CancellationToken token)
    {
        using var client = new k8s.Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
        var nodes = new Controllers.Informers.Informer<k8s.Models.V1Node>(Controllers.Informers.ListWatches.Nodes(client));
        var queue = new Controllers.Informers.CoalescingQueue();
        nodes.AddHandlers(new(_ => queue.Enqueue(), (_, _) => queue.Enqueue(), _ => queue.Enqueue()));
        using var netns = Kernel.Netns.Open(plan.Outside.Netns);
        using var rt = Kernel.Netlink.RtNetlink.Open(netns);
        using var routerNetns = plan.Router is null ? null : Kernel.Netns.Open(plan.Router.Netns);
        using var routerRt = routerNetns is null ? null : Kernel.Netlink.RtNetlink.Open(routerNetns);
        var informer = nodes.RunAsync(token);
        try
        {
            await queue.RunAsync((_, _) =>
            {
                var infos = nodes.Cache.List().Select(Controllers.Projections.ObjectProjection.ToNodeInfo).ToArray();
                var viaNodes = Agent.Routing.HostGwPlanner.Build("", infos);
                if (routerRt is not null)
                {
                    Agent.Routing.RouteApplier.Apply(routerRt, viaNodes);
                }
                Agent.Routing.RouteApplier.Apply(rt, FlatRoutes.ForOutside(plan, viaNodes));
                return Task.CompletedTask;
            }, new Controllers.Informers.Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5)), e => log($"outside routes: {e.Message}"), token);
        }
        catch (OperationCanceledException)
        {
        }
        await informer.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Applies deploy/rbac.yaml as the admin, retried (bounded) while the API server is still coming up.</summary>
    private static async Task EnsureRbacAsync(LabState state, Action<string> log, CancellationToken token)
    {
        for (var attempt = 1; !token.IsCancellationRequested; attempt++)
        {
            try
            {
                using var client = new k8s.Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
                await LabRbac.EnsureAsync(client, token);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log($"rbac: {e.Message}");
                if (attempt == 50)
                {
                    return; // lab up applies it again and reports
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Min(attempt, 10)), token);
            }
        }
    }

    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var command = new Command("supervise", "Keep a lab's processes running (started by `lab up`).") { name };
        command.Hidden = true;
        command.SetAction(async (parse, token) =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state || !state.Exists)
            {
                Console.Error.WriteLine($"podnet lab supervise: no lab state for {parse.GetValue(name)}");
                return 2;
            }
            var settings = state.LoadSettings();
            var plan = LabPlanner.Build(settings.ToSpec());
            var podnet = Environment.ProcessPath!;
            var bin = Path.GetDirectoryName(podnet)!;
            using var stop = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, stop.Token);
            void Log(string line) => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            var supervisor = new Supervisor(state.Directory) { Log = Log };
            // The agents start once their kubeconfigs exist: each node's own (a client certificate for
            // system:node:NAME, written by the API server once its bootstrap objects are there), or
            // with an existing API server the copy of its kubeconfig. Stale ones of a resumed lab go first.
            string[] ready = settings.UsesExternalApiServer ? [state.NodeKubeconfig] : plan.Nodes.Select(n => state.NodeKubeconfigOf(n.Name)).ToArray();
            foreach (var stale in ready.Append(state.NodeKubeconfig).Where(File.Exists))
            {
                File.Delete(stale);
            }
            if (settings.UsesExternalApiServer)
            {
                // An existing API server: users and nodes alike use its kubeconfig as it is (the
                // forwarder makes its address reachable from the nodes).
                Directory.CreateDirectory(state.ControlPlaneDirectory);
                File.Copy(state.ExternalKubeconfigCopy, state.Kubeconfig, overwrite: true);
                File.Copy(state.ExternalKubeconfigCopy, state.NodeKubeconfig, overwrite: true);
            }
            var controlPlane = supervisor.RunAsync(
                settings.UsesExternalApiServer
                    ? LabProcesses.ExternalControlPlaneProcesses(plan, settings, state, podnet)
                    : [LabProcesses.ControlPlaneProcess(plan, settings, state, podnet)],
                linked.Token);
            while (!ready.All(File.Exists) && !linked.IsCancellationRequested)
            {
                await Task.Delay(100, CancellationToken.None);
            }
            if (!settings.UsesExternalApiServer && !linked.IsCancellationRequested)
            {
                // The agents' cluster-wide reads come from deploy/rbac.yaml's podnet:agent: it
                // exists before they start, so that they never see a 403.
                await EnsureRbacAsync(state, Log, linked.Token);
            }
            var nodes = linked.IsCancellationRequested
                ? Task.CompletedTask
                : supervisor.RunAsync(LabProcesses.NodeProcesses(plan, settings, state, podnet, bin), linked.Token);
            var outside = settings.ArchitectureMode == Core.Cluster.Architecture.Flat && !linked.IsCancellationRequested
                ? RouteOutsideAsync(state, plan, Log, linked.Token)
                : Task.CompletedTask;
            await Task.WhenAll(controlPlane, nodes, outside);
            Log("supervisor stopped");
            return 0;
        });
        return command;
    }
}
