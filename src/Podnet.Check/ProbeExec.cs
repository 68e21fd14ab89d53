using System.Diagnostics;
using System.Net.WebSockets;
using k8s;
using k8s.Models;
using Podnet.Agent.Runtime;
using Podnet.Lab.State;

namespace Podnet.Check;

/// <summary>Runs a probe's command at its site; a command still running after the timeout is killed and reported as timed out.</summary>
public interface IProbeExec
{
    /// <summary>The check's pods as the API last showed them (what entering one needs: node, uid, namespace).</summary>
    void Know(IEnumerable<V1Pod> pods);

    Task<ExecOutput> RunAsync(ProbeSite site, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken token);
}

/// <summary>
/// A lab's pods and outside host: into a pod as `podnet exec` goes (<see cref="PodEntry"/>, the
/// agent's record of it on its node), onto the outside host by its network namespace.
/// </summary>
public sealed class LabProbeExec(LabState lab, string outsideNetns) : IProbeExec
{
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);

    /// <summary>The check's pods as the API last showed them (node and uid are what entering needs).</summary>
    public void Know(IEnumerable<V1Pod> pods)
    {
        foreach (var pod in pods)
        {
            _pods[pod.Metadata.Name] = pod;
        }
    }

    public async Task<ExecOutput> RunAsync(ProbeSite site, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken token)
    {
        IReadOnlyList<string> full;
        if (site.Pod is null)
        {
            full = ["/usr/bin/nsenter", "--net=" + Kernel.Netns.PathOf(outsideNetns), "--", .. argv];
        }
        else
        {
            if (!_pods.TryGetValue(site.Pod, out var pod) || pod.Spec?.NodeName is not { } node
                || PodEntry.Find(Path.Combine(lab.NodeDirectory(node), "pods"), pod.Metadata.Uid, pod.Spec.Containers[0].Name) is not { } entry)
            {
                return new ExecOutput(-1, "", $"pod {site.Pod} is not running on a node of lab {lab.Name}");
            }
            full = entry.Argv(argv);
        }
        return await RunProcessAsync(full, timeout, token);
    }

    internal static async Task<ExecOutput> RunProcessAsync(IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken token)
    {
        var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in argv.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        // The tools have timeouts of their own; this bound (theirs plus a margin for a loaded machine) only catches a hung one.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
        bound.CancelAfter(timeout + TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            token.ThrowIfCancellationRequested();
            return new ExecOutput(-1, await stdout, await stderr, TimedOut: true);
        }
        return new ExecOutput(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// Any cluster: into a pod through the API server's pods/exec (a WebSocket, v4.channel.k8s.io, as
/// kubectl exec goes), so nothing but the kubeconfig is needed. There is no outside host.
/// </summary>
/// <remarks>
/// The command's exit code comes from the exec's status channel (kube-apiserver's
/// NonZeroExitCode cause); an exec the server or kubelet refused ends as exit -1 with its message,
/// which the probe's reading shows as an error row, never as an outcome.
/// </remarks>
public sealed class ApiProbeExec(IKubernetes client) : IProbeExec
{
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal);

    public void Know(IEnumerable<V1Pod> pods)
    {
        lock (_pods)
        {
            foreach (var pod in pods)
            {
                _pods[pod.Metadata.Name] = pod;
            }
        }
    }

    public async Task<ExecOutput> RunAsync(ProbeSite site, IReadOnlyList<string> argv, TimeSpan timeout, CancellationToken token)
    {
        V1Pod? pod = null;
        lock (_pods)
        {
            if (site.Pod is not null)
            {
                _pods.TryGetValue(site.Pod, out pod);
            }
        }
        if (pod is null)
        {
            return new ExecOutput(-1, "", site.Pod is null ? "a cluster given by --kubeconfig has no outside host" : $"pod {site.Pod} is not known");
        }
        // The tools have timeouts of their own; this bound (theirs plus a margin for a loaded machine) only catches a hung exec.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
        bound.CancelAfter(timeout + TimeSpan.FromSeconds(10));
        string stdout = "", stderr = "";
        try
        {
            var exit = await client.NamespacedPodExecAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, pod.Spec.Containers[0].Name, argv, false,
                async (stdin, output, error) =>
                {
                    using var outReader = new StreamReader(output);
                    using var errReader = new StreamReader(error);
                    var o = outReader.ReadToEndAsync(bound.Token);
                    var e = errReader.ReadToEndAsync(bound.Token);
                    (stdout, stderr) = (await o, await e);
                }, bound.Token);
            return new ExecOutput(exit, stdout, stderr);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return new ExecOutput(-1, stdout, stderr, TimedOut: true);
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or KubernetesException or k8s.Autorest.HttpOperationException or IOException)
        {
            return new ExecOutput(-1, stdout, $"exec in {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} failed: {e.Message}");
        }
    }
}
