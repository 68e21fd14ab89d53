using k8s;
using System.CommandLine;
using System.Diagnostics;
using Podnet.Lab.State;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet exec [-n NS] POD [-c C] -- CMD…` runs CMD inside a lab pod (its network, mount, UTS,
/// IPC and PID namespaces, with its container's environment); `--outside` and `--node NAME` run it on
/// the lab's outside host or a node. Stdin and stdout pass through; the exit status is CMD's.
/// </summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var pod = new Argument<string?>("POD") { Description = "The pod.", Arity = ArgumentArity.ZeroOrOne };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var container = new Option<string>("--container", "-c") { Description = "The container (default: the first)." };
        var outside = new Option<bool>("--outside") { Description = "Run on the lab's outside host." };
        var node = new Option<string>("--node") { Description = "Run on this lab node." };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("exec", "Run a command inside a lab pod, on the outside host, or on a node.")
        {
            pod, ns, container, outside, node, kubeconfig, lab,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, token) =>
        {
            var argv = parse.UnmatchedTokens.ToArray();
            if (argv.Length == 0 && !(parse.GetValue(pod) is not null && (parse.GetValue(outside) || parse.GetValue(node) is not null)))
            {
                Console.Error.WriteLine("podnet exec: give the command after --, like: podnet exec web-1 -- curl http://10.244.1.5:8080/hostname");
                return 2;
            }
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { Lab: { } state } context)
            {
                Console.Error.WriteLine("podnet exec: works on a lab (give --lab NAME when several run)");
                return 2;
            }
            if (parse.GetValue(outside) || parse.GetValue(node) is not null)
            {
                // Without a POD, the parser hands the command's first word to the POD argument.
                argv = parse.GetValue(pod) is { } first ? [first, .. argv] : argv;
                var part = parse.GetValue(outside) ? "out" : parse.GetValue(node)!;
                return await RunAsync(["--net=" + Kernel.Netns.PathOf($"pn-{state.Name}-{part}"), "--", .. argv], null, token);
            }
            if (parse.GetValue(pod) is not { } name)
            {
                Console.Error.WriteLine("podnet exec: give a POD, --outside or --node NAME");
                return 2;
            }
            using var client = context.Client();
            k8s.Models.V1Pod target;
            try
            {
                target = await client.CoreV1.ReadNamespacedPodAsync(name, parse.GetValue(ns), cancellationToken: token);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                Console.Error.WriteLine($"Error from server (NotFound): pods \"{name}\" not found");
                return 1;
            }
            var containerName = parse.GetValue(container) ?? target.Spec.Containers[0].Name;
            // The one way into a pod, as its containers went in: its net, mount, UTS, IPC and PID
            // namespaces — the container's own, when its command runs in a PID namespace of its own.
            if (Agent.Runtime.PodEntry.Find(Path.Combine(state.NodeDirectory(target.Spec?.NodeName ?? ""), "pods"), target.Metadata.Uid, containerName) is not { } entry)
            {
                Console.Error.WriteLine($"podnet exec: pod {name} is not running on a node of lab {state.Name}");
                return 1;
            }
            return await RunAsync(entry.Argv(argv).Skip(1), entry.Environment(), token);
        });
        return command;
    }

    /// <summary>nsenter with the given arguments, in the container's environment when one is given.</summary>
    private static async Task<int> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken token)
    {
        var info = new ProcessStartInfo("/usr/bin/nsenter") { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            info.Environment.Clear();
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        using var process = Process.Start(info)!;
        await process.WaitForExitAsync(token);
        return process.ExitCode;
    }
}
