using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Agent.Runtime.Volumes;
using Podnet.Core.Cluster;
using Podnet.Kernel;

namespace Podnet.Agent.Runtime;

public sealed partial class PodManager
{
    /// <summary>
    /// How often the data of a pod's configMap, secret, downwardAPI and projected volumes is
    /// written again from the API (kubelet: its sync period, a minute, plus its cache's TTL).
    /// </summary>
    private static readonly TimeSpan s_volumeRefresh = TimeSpan.FromSeconds(10);

    /// <summary>Notices exits, restarts per restartPolicy with the kubelet's backoff (10 s doubling to 5 min), and runs probes.</summary>
    private async Task StepContainersAsync(V1Pod pod, PodRecord record, IReadOnlyList<ServiceInfo> serviceInfos, DateTime now, CancellationToken token)
    {
        var policy = pod.Spec?.RestartPolicy ?? "Always";
        VolumeInputs? inputs = null;
        if (record.NextVolumeRefresh is { } refresh && refresh <= now)
        {
            record.NextVolumeRefresh = now + s_volumeRefresh;
            inputs = await RefreshVolumesAsync(pod, token);
        }
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
                    state.RestartAt = now + CrashBackoff.Delay(state.RestartCount);
                    await _events.WarningAsync(pod, container.Name, "BackOff", $"Back-off restarting failed container {container.Name} in pod {PodEvents.PodRef(pod)}", token);
                }
                options.Log($"{record.Namespace}/{record.Name}: container {container.Name} exited with {code}{(restart ? $", restarting at {state.RestartAt:HH:mm:ss}" : "")}");
            }
            if (state.RestartAt is { } at && at <= now)
            {
                if (state.Kind != "waiting")
                {
                    state.RestartCount++; // a container that never started has not restarted
                }
                inputs ??= await InputsAsync(pod, token);
                starter.StartContainer(pod, container, record, starter.SandboxOf(record), serviceInfos, inputs, now);
                if (state.Kind == "waiting")
                {
                    await ContainerEventAsync(pod, container.Name, state, token);
                }
            }
            if (state.ExitCode is null && state.Kind != "waiting")
            {
                await ProbeAsync(container, record, state, now);
            }
        }
    }

    /// <summary>The ConfigMaps and Secrets the pod refers to, as the API has them now (absent: not found), and the node's allocatable.</summary>
    private async Task<VolumeInputs> InputsAsync(V1Pod pod, CancellationToken token)
    {
        var (configMapNames, secretNames) = VolumeFiles.References(pod);
        var ns = pod.Metadata.NamespaceProperty;
        var configMaps = new Dictionary<string, V1ConfigMap>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, V1Secret>(StringComparer.Ordinal);
        foreach (var name in configMapNames)
        {
            try
            {
                configMaps[name] = await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: token);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
        foreach (var name in secretNames)
        {
            try
            {
                secrets[name] = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: token);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
        var allocatable = nodes.Cache.Get(null, options.NodeName)?.Status?.Allocatable is { } a
            ? new Dictionary<string, ResourceQuantity>(a, StringComparer.Ordinal)
            : new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var automount = await _tokens.AutomountAsync(pod, token);
        return new VolumeInputs(configMaps, secrets, await _tokens.ForAsync(pod, token), allocatable, automount);
    }

    /// <summary>Writes the pod's data volumes again when their objects (or the pod's labels and annotations) changed.</summary>
    private async Task<VolumeInputs?> RefreshVolumesAsync(V1Pod pod, CancellationToken token)
    {
        try
        {
            var inputs = await InputsAsync(pod, token);
            var changed = VolumeSetup.Refresh(pod, starter.PlanVolumes(pod), inputs, DateTime.UtcNow);
            if (changed.Count > 0)
            {
                options.Log($"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}: updated volumes {string.Join(", ", changed)}");
            }
            return inputs;
        }
        catch (VolumeException e)
        {
            // As kubelet: the volume keeps its last content, and the pod hears why.
            await _events.WarningAsync(pod, null, "FailedMount", $"MountVolume.SetUp failed for volume \"{e.Volume}\" : {e.Message}", token);
            return null;
        }
        catch (HttpOperationException e)
        {
            options.Log($"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}: cannot refresh volumes: {e.Message}");
            return null;
        }
    }

    /// <summary>The Warning events of containers that could not start, after a pod's start.</summary>
    private async Task ContainerEventsAsync(V1Pod pod, PodRecord record, CancellationToken token)
    {
        foreach (var (name, state) in record.Containers.Where(c => c.Value.Kind == "waiting"))
        {
            await ContainerEventAsync(pod, name, state, token);
        }
    }

    /// <summary>kubelet's Failed events: the image pull's own message, then "Error: REASON"; other reasons "Error: MESSAGE".</summary>
    private async Task ContainerEventAsync(V1Pod pod, string container, ContainerRecord state, CancellationToken token)
    {
        if (state.WaitingReason is "ErrImagePull" or "ImagePullBackOff")
        {
            await _events.WarningAsync(pod, container, "Failed", state.Error ?? "", token);
            await _events.WarningAsync(pod, container, "Failed", $"Error: {state.WaitingReason}", token);
            if (state.WaitingReason == "ImagePullBackOff")
            {
                await _events.WriteAsync(pod, container, "Normal", "BackOff", $"Back-off pulling image \"{pod.Spec.Containers.FirstOrDefault(c => c.Name == container)?.Image}\"", token);
            }
            return;
        }
        await _events.WarningAsync(pod, container, "Failed", $"Error: {state.Error}", token);
    }

    private static int ShimOf(ContainerRecord state) => state.Kind == "process" ? state.Pid : 0;

    private async Task ProbeAsync(V1Container container, PodRecord record, ContainerRecord state, DateTime now)
    {
        var ip = System.Net.IPAddress.Parse(record.PodIPs[0]);
        var sandbox = starter.SandboxOf(record);
        var started = state.Kind != "server" || Podnet.TestServer.PodServerDirectory.IsServing(options.ServeDirectory, $"{record.Uid}_{container.Name}");
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
            var ok = ProbeActionOf(readiness) is { } action && await probes.RunAsync(action, ip, sandbox, TimeSpan.FromSeconds(readiness.TimeoutSeconds ?? 1), ShimOf(state));
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
            var ok = ProbeActionOf(liveness) is { } action && await probes.RunAsync(action, ip, sandbox, TimeSpan.FromSeconds(liveness.TimeoutSeconds ?? 1), ShimOf(state));
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
        starter.Forget(record.Uid);
        _events.Forget(record.Uid);
        _records.Remove(record.Uid);
        _tokens.Forget(record.Uid);
        _posted.Remove(record.Uid);
        _saved.Remove(record.Uid);
        options.Log($"removed {record.Namespace}/{record.Name}");
    }
}
