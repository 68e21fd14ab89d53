using System.CommandLine;
using Podnet.Check;
using Podnet.Check.Trace;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>`podnet trace [-n NS] POD (URL | HOST:PORT[/PROTO]) [-o text|json]`: the work is <see cref="TraceRunner"/>'s; this parses and prints.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var pod = new Argument<string>("POD") { Description = "The sending pod." };
        var to = new Argument<string>("TARGET") { Description = "A URL, or HOST:PORT[/tcp]; HOST may be a name the pod resolves." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var output = new Option<string>("--output", "-o") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("trace", "Send one real request from a pod and explain its path (Service, endpoint, NAT, routes, nftables verdicts), each step checked against nftrace, conntrack and the kernel's routes.")
        {
            pod, to, ns, output, kubeconfig, lab,
        };
        command.SetAction(async (parse, token) =>
        {
            TraceTarget target;
            try
            {
                target = TraceTarget.Parse(parse.GetValue(to)!);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"podnet trace: {e.Message}");
                return 2;
            }
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            if (context.Lab is not { } state)
            {
                Console.Error.WriteLine("podnet trace: works on a lab, whose nodes' kernels it asks (give --lab NAME)");
                return 2;
            }
            var plan = LabPlanner.Build(state.LoadSettings().ToSpec());
            using var client = context.Client();
            var runner = new TraceRunner(client, new LabProbeExec(state, plan.Outside.Netns), plan.Nodes.ToDictionary(n => n.Name, n => n.Netns));
            TraceReport report;
            try
            {
                report = await runner.RunAsync(parse.GetValue(ns)!, parse.GetValue(pod)!, target, token);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or k8s.Autorest.HttpOperationException or Kernel.NftException)
            {
                Console.Error.WriteLine($"podnet trace: {e.Message}");
                return 1;
            }
            if (parse.GetValue(output) == "json")
            {
                Console.WriteLine(report.ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                foreach (var line in report.Lines())
                {
                    Console.WriteLine(line);
                }
            }
            return report.Result.Outcome == Outcome.Connect ? 0 : 1;
        });
        return command;
    }
}
