using System.CommandLine;
using Podnet.Check;
using Podnet.Check.Trace;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet trace [-n NS] POD (URL | HOST:PORT[/PROTO]) [-o text|json]`, or `podnet trace --outside
/// TARGET` from the lab's outside host: the work is <see cref="TraceRunner"/>'s; this parses and prints.
/// </summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        // POD TARGET, or TARGET alone with --outside.
        var positional = new Argument<string[]>("POD TARGET") { Description = "The sending pod (not with --outside), and a URL or HOST:PORT[/tcp|/udp]; HOST may be a name the pod resolves.", Arity = new ArgumentArity(1, 2) };
        var outsideOption = new Option<bool>("--outside") { Description = "Send from the lab's outside host instead of a pod (give an address: NodePort, LoadBalancer)." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var output = new Option<string>("--output", "-o") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("trace", "Send one real request from a pod and explain its path (Service, endpoint, NAT, routes, nftables verdicts), each step checked against nftrace, conntrack and the kernel's routes.")
        {
            positional, ns, output, kubeconfig, lab, outsideOption,
        };
        command.SetAction(async (parse, token) =>
        {
            var words = parse.GetValue(positional)!;
            var fromOutside = parse.GetValue(outsideOption);
            if (words.Length != (fromOutside ? 1 : 2))
            {
                Console.Error.WriteLine(fromOutside ? "podnet trace: with --outside give only the TARGET" : "podnet trace: give POD and TARGET (or --outside TARGET)");
                return 2;
            }
            TraceTarget target;
            try
            {
                target = TraceTarget.Parse(words[^1]);
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
                report = fromOutside
                    ? await runner.RunAsync(parse.GetValue(ns)!, null, target, token, plan.Outside.Address.Address)
                    : await runner.RunAsync(parse.GetValue(ns)!, words[0], target, token);
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
