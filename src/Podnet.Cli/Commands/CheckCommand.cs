using System.CommandLine;
using Podnet.Check;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>`podnet check [--lab NAME | --kubeconfig FILE] [--test PATTERN] [--keep]`: the work is <see cref="CheckRunner"/>'s; this parses and prints.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var test = new Option<string>("--test") { Description = "Only the tests whose name holds PATTERN (or matches it, with *), like dns or service/*." };
        var keep = new Option<bool>("--keep") { Description = "Leave the check's namespace and pods for debugging." };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("check", "Test the cluster's networking with real traffic from test pods in a temporary namespace: a table of results, exit 1 on a failure.")
        {
            test, keep, kubeconfig, lab,
        };
        command.SetAction(async (parse, token) =>
        {
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            using var client = context.Client();
            CheckTarget target;
            if (context.Lab is { } state)
            {
                var settings = state.LoadSettings();
                var plan = LabPlanner.Build(settings.ToSpec());
                target = new CheckTarget(client, new LabProbeExec(state, plan.Outside.Netns), settings.Architecture, plan.Outside.Address.Address.ToString());
            }
            else
            {
                // A cluster known only by its kubeconfig: probes go into the pods through the API's pods/exec;
                // there is no outside host and no known architecture, so the tests that need them are skipped.
                target = new CheckTarget(client, new ApiProbeExec(client), null, null);
            }
            // Program invokes synchronously, which leaves SIGINT and SIGTERM to the runtime's default
            // (the process ends at once); the check turns them into cancellation, so it still deletes its namespace.
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Cancel);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Cancel);
            void Cancel(System.Runtime.InteropServices.PosixSignalContext signal)
            {
                signal.Cancel = true;
                interrupted.Cancel();
            }
            CheckReport report;
            try
            {
                report = await new CheckRunner(target, Console.Error).RunAsync(parse.GetValue(test), parse.GetValue(keep), interrupted.Token);
            }
            catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
            {
                Console.Error.WriteLine("podnet check: interrupted");
                return 130;
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or k8s.Autorest.HttpOperationException)
            {
                Console.Error.WriteLine($"podnet check: {e.Message}");
                return 1;
            }
            foreach (var line in CheckTable.Lines(report))
            {
                Console.WriteLine(line);
            }
            return report.Passed ? 0 : 1;
        });
        return command;
    }
}
