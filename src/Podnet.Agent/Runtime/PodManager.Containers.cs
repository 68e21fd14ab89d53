using k8s;
using k8s.Models;
using Podnet.Core.Cluster;
using Podnet.Kernel;

namespace Podnet.Agent.Runtime;

public sealed partial class PodManager
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Notices exits, restarts per restartPolicy with the kubelet's backoff (10 s doubling to 5 min), and runs probes.</summary>
    private async Task StepContainersAsync(V1Pod pod, PodRecord record, IReadOnlyList<ServiceInfo> serviceInfos, DateTime now)
    {
        var policy = pod.Spec?.RestartPolicy ?? "Always";
        foreach (var container in pod.Spec?.Containers ?? [])
        {
            if (!record.Containers.TryGetValue(container.Name, out var state))
            {
                continue;
            }
            if (state.Kind == "process" && state.ExitCode is null && starter.ContainerOf(record, container.Name, state).ExitCode is { } code)
            {
                state.ExitCode = state.LastExitCode = code;
                state.FinishedAt = now;
                state.Ready = false;
                var restart = policy == "Always" || (policy == "OnFailure" && code != 0);
                if (restart)
                {
                    var backoff = TimeSpan.FromSeconds(10 * Math.Pow(2, Math.Min(state.RestartCount, 10)));
                    state.RestartAt = now + (backoff < s_maxBackoff ? backoff : s_maxBackoff);
                }
                options.Log($"{record.Namespace}/{record.Name}: container {container.Name} exited with {code}{(restart ? $", restarting at {state.RestartAt:HH:mm:ss}" : "")}");
            }
            if (state.RestartAt is { } at && at <= now)
            {
                state.RestartCount++;
                starter.StartContainer(pod, container, record, starter.SandboxOf(record), serviceInfos);
            }
            if (state.ExitCode is null)
            {
                await ProbeAsync(container, record, state, now);
            }
        }
    }

    private async Task ProbeAsync(V1Container container, PodRecord record, ContainerRecord state, DateTime now)
    {
        var ip = System.Net.IPAddress.Parse(record.PodIPs[0]);
        var sandbox = starter.SandboxOf(record);
        var started = state.Kind != "server" || TestServer.PodServerDirectory.IsServing(options.ServeDirectory, $"{record.Uid}_{container.Name}");
        if (!started)
        {
            state.Ready = false; // the node's test server has not opened the pod's sockets yet
            _waitingForServer = true;
        }
        else if (container.ReadinessProbe is not { } readiness)
        {
            state.Ready = true;
        }
        else if (Due(readiness, state.StartedAt, state.NextReadinessProbe, now))
        {
            var ok = ProbeActionOf(readiness) is { } action && await probes.RunAsync(action, ip, sandbox, TimeSpan.FromSeconds(readiness.TimeoutSeconds ?? 1));
            state.NextReadinessProbe = now + TimeSpan.FromSeconds(readiness.PeriodSeconds ?? 10);
            state.ProbeSuccesses = ok ? state.ProbeSuccesses + 1 : 0;
            state.ProbeFailures = ok ? 0 : state.ProbeFailures + 1;
            if (ok && state.ProbeSuccesses >= (readiness.SuccessThreshold ?? 1))
            {
                state.Ready = true;
            }
            else if (!ok && state.ProbeFailures >= (readiness.FailureThreshold ?? 3))
            {
                state.Ready = false;
            }
        }
        if (container.LivenessProbe is { } liveness && Due(liveness, state.StartedAt, state.NextLivenessProbe, now))
        {
            var ok = ProbeActionOf(liveness) is { } action && await probes.RunAsync(action, ip, sandbox, TimeSpan.FromSeconds(liveness.TimeoutSeconds ?? 1));
            state.NextLivenessProbe = now + TimeSpan.FromSeconds(liveness.PeriodSeconds ?? 10);
            state.LivenessFailures = ok ? 0 : state.LivenessFailures + 1;
            if (state.LivenessFailures >= (liveness.FailureThreshold ?? 3))
            {
                options.Log($"{record.Namespace}/{record.Name}: container {container.Name} failed its liveness probe, restarting");
                state.Error = "Container failed liveness probe, will be restarted";
                if (state.Kind == "process")
                {
                    starter.ContainerOf(record, container.Name, state).Signal(ProcessSignals.SigKill);
                }
                state.ExitCode = state.LastExitCode = 137;
                state.FinishedAt = now;
                state.Ready = false;
                state.RestartAt = now;
            }
        }
    }

    private static bool Due(V1Probe probe, DateTime? started, DateTime? next, DateTime now) =>
        next is { } at ? at <= now : started is { } s && s + TimeSpan.FromSeconds(probe.InitialDelaySeconds ?? 0) <= now;

    private static ProbeAction? ProbeActionOf(V1Probe probe)
    {
        if (probe.TcpSocket is { } tcp && PortOf(tcp.Port) is { } tcpPort)
        {
            return new ProbeAction.TcpSocket(tcpPort);
        }
        if (probe.HttpGet is { } http && PortOf(http.Port) is { } httpPort)
        {
            return new ProbeAction.HttpGet(httpPort, http.Path ?? "/", http.Scheme ?? "HTTP",
                (http.HttpHeaders ?? []).Select(h => new KeyValuePair<string, string>(h.Name, h.Value)).ToArray());
        }
        return probe.Exec?.Command is { Count: > 0 } command ? new ProbeAction.Exec(command.ToArray()) : null;
    }

    private static int? PortOf(IntOrString? port) =>
        port?.Value is { } text && int.TryParse(text, out var number) ? number : null;

    /// <summary>
    /// Graceful deletion: SIGTERM, then SIGKILL when the grace period ends (or as soon as every
    /// process has exited), then the sandbox and network go, and the pod is released in the API.
    /// </summary>
    private async Task TerminateAsync(V1Pod pod, DateTime now, CancellationToken token)
    {
        var uid = pod.Metadata.Uid;
        if (_records.TryGetValue(uid, out var record))
        {
            if (!_terminating.TryGetValue(uid, out var deadline))
            {
                var grace = pod.Metadata.DeletionGracePeriodSeconds ?? pod.Spec?.TerminationGracePeriodSeconds ?? 30;
                deadline = _terminating[uid] = now + TimeSpan.FromSeconds(grace);
                starter.Stop(record, graceful: true);
                options.Log($"{record.Namespace}/{record.Name}: stopping, grace {grace} s");
            }
            var running = record.Containers.Any(c => c.Value.Kind == "process" && starter.ContainerOf(record, c.Key, c.Value).ExitCode is null && ProcessSignals.IsAlive(c.Value.Pid));
            if (running && now < deadline)
            {
                return;
            }
            Remove(record);
        }
        _terminating.Remove(uid);
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = uid } }, cancellationToken: token);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict)
        {
        }
    }

    /// <summary>Takes a pod apart: containers killed, sandbox and network removed, record deleted.</summary>
    private void Remove(PodRecord record)
    {
        starter.Stop(record, graceful: false);
        starter.SandboxOf(record).Destroy();
        var conflist = Conflist();
        if (conflist is not null)
        {
            network.Teardown(record.Uid, record.Namespace, record.Name, conflist);
        }
        else
        {
            Netns.Delete(record.Netns);
        }
        PodRecordStore.Delete(options.PodsDirectory, record.Uid);
        _records.Remove(record.Uid);
        _posted.Remove(record.Uid);
        _saved.Remove(record.Uid);
        options.Log($"removed {record.Namespace}/{record.Name}");
    }
}
