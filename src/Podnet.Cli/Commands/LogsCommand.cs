using k8s;
using System.CommandLine;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet logs [-n NS] POD [-c C] [-f] [-p] [--tail N] [--timestamps]`: a container's log through
/// the API's pods/log, which the pod's kubelet answers from its CRI-format log files, so it shows
/// the very lines `kubectl logs` shows.
/// </summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var pod = new Argument<string>("POD") { Description = "The pod." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var container = new Option<string>("--container", "-c") { Description = "The container (default: the first)." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing what the container writes." };
        var previous = new Option<bool>("--previous", "-p") { Description = "The previous instance of the container (before its last restart)." };
        var tail = new Option<int?>("--tail") { Description = "Only the last N lines." };
        var timestamps = new Option<bool>("--timestamps") { Description = "Each line with the time it was written (RFC3339)." };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("logs", "Print a container's output.") { pod, ns, container, follow, previous, tail, timestamps, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                Console.Error.WriteLine("podnet logs: no cluster (give --lab NAME or --kubeconfig FILE)");
                return 2;
            }
            using var client = context.Client();
            var name = parse.GetValue(pod)!;
            try
            {
                var target = await client.CoreV1.ReadNamespacedPodAsync(name, parse.GetValue(ns), cancellationToken: token);
                var containerName = parse.GetValue(container) ?? target.Spec.Containers[0].Name;
                await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(name, parse.GetValue(ns), containerName,
                    follow: parse.GetValue(follow), previous: parse.GetValue(previous), tailLines: parse.GetValue(tail),
                    timestamps: parse.GetValue(timestamps), cancellationToken: token);
                await using var stdout = Console.OpenStandardOutput();
                var buffer = new byte[16 * 1024];
                int n;
                while ((n = await stream.ReadAsync(buffer, token)) > 0)
                {
                    await stdout.WriteAsync(buffer.AsMemory(0, n), token);
                    await stdout.FlushAsync(token);
                }
                return 0;
            }
            catch (k8s.Autorest.HttpOperationException e)
            {
                var status = e.Response.Content is { Length: > 0 } body ? TryMessage(body) : null;
                Console.Error.WriteLine($"Error from server ({e.Response.ReasonPhrase}): {status ?? e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static string? TryMessage(string body)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(body)?["message"]?.GetValue<string>();
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }
}
