using k8s;
using System.CommandLine;

namespace Podnet.Cli.Commands;

/// <summary>`podnet logs [-n NS] POD [-c C] [-f]`: a lab container's output, from the file the agent writes it to.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var pod = new Argument<string>("POD") { Description = "The pod." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var container = new Option<string>("--container", "-c") { Description = "The container (default: the first)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing what the container writes." };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("logs", "Print a lab container's output.") { pod, ns, container, follow, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { Lab: { } state } context)
            {
                Console.Error.WriteLine("podnet logs: works on a lab (give --lab NAME when several run)");
                return 2;
            }
            using var client = context.Client();
            k8s.Models.V1Pod target;
            try
            {
                target = await client.CoreV1.ReadNamespacedPodAsync(parse.GetValue(pod), parse.GetValue(ns), cancellationToken: token);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                Console.Error.WriteLine($"Error from server (NotFound): pods \"{parse.GetValue(pod)}\" not found");
                return 1;
            }
            var name = parse.GetValue(container) ?? target.Spec.Containers[0].Name;
            if (target.Spec.Containers.All(c => c.Name != name))
            {
                Console.Error.WriteLine($"error: container {name} is not valid for pod {target.Metadata.Name}");
                return 1;
            }
            var path = Path.Combine(state.NodeDirectory(target.Spec.NodeName ?? ""), "pods", target.Metadata.Uid, "logs", $"{name}.log");
            if (!File.Exists(path))
            {
                return 0; // nothing written yet (or a built-in server, which writes nothing)
            }
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            await using var stdout = Console.OpenStandardOutput();
            while (true)
            {
                await stream.CopyToAsync(stdout, token);
                await stdout.FlushAsync(token);
                if (!parse.GetValue(follow))
                {
                    return 0;
                }
                await Task.Delay(200, token);
            }
        });
        return command;
    }
}
