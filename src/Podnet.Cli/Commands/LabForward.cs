using System.CommandLine;
using System.Runtime.InteropServices;
using k8s;
using Podnet.Lab.State;
using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab forward` (run by the supervisor of a lab made with `lab up --kubeconfig`): relays
/// the existing API server's address into every node namespace, so the agents use its
/// kubeconfig as it is.
/// </summary>
internal static class LabForward
{
    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var command = new Command("forward", "Relay an existing API server's address into a lab's nodes (run by the supervisor).") { name };
        command.Hidden = true;
        command.SetAction(async (parse, token) =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state || !state.Exists)
            {
                Console.Error.WriteLine($"podnet lab forward: no lab state for {parse.GetValue(name)}");
                return 2;
            }
            var plan = LabPlanner.Build(state.LoadSettings().ToSpec());
            System.Net.IPEndPoint target;
            try
            {
                target = ApiForwarder.ResolveServer(new Uri(KubeconfigFile.Load(state.ExternalKubeconfigCopy).Host));
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or UriFormatException or System.Net.Sockets.SocketException or IOException)
            {
                Console.Error.WriteLine($"podnet lab forward: {state.ExternalKubeconfigCopy}: {e.Message}");
                return 1;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var forwarder = ApiForwarder.Listen(target, plan.Nodes.Select(n => n.Netns));
            Console.Error.WriteLine($"podnet lab forward: {target} relayed into {string.Join(", ", plan.Nodes.Select(n => n.Netns))}");
            await forwarder.RunAsync(line => Console.Error.WriteLine($"podnet lab forward: {line}"), stop.Token);
            return 0;
        });
        return command;
    }
}
