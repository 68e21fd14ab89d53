using k8s.Models;
using Podnet.Agent.Runtime.Volumes;
using Podnet.TestServer;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Runtime;

/// <summary>
/// Starts a pod on this node: network (CNI), sandbox (mount and UTS namespaces with the pod's
/// files), then its containers; and starts single containers again for restarts.
/// </summary>
public sealed class PodStarter(AgentOptions options, PodNetwork network, ServiceAccountFiles account)
{
    private readonly Kernel.MountPoints _mountPoints = new(options.MountPointsDirectory);

    /// <summary>
    /// Called once the pod has its network and addresses and before any of its processes
    /// exists (the policy engine isolates it here); throwing fails the start, which is retried.
    /// </summary>
    public Action<V1Pod, IReadOnlyList<string>>? BeforeContainers { get; init; }

    /// <summary>Where hostPath volumes live: the lab node's "host" filesystem (STATE/hostpath/PATH).</summary>
    public string HostPathRoot => Path.Combine(options.StateDirectory, "hostpath");

    /// <summary>The pod's volume plan (pure; throws <see cref="VolumeException"/> for what Podnet cannot mount).</summary>
    public VolumePlan PlanVolumes(V1Pod pod) =>
        VolumePlanner.Plan(pod, PodRecordStore.DirectoryOf(options.PodsDirectory, pod.Metadata.Uid), HostPathRoot);

    /// <summary>
    /// Starts the pod: volumes first (a volume that cannot be made fails the start before any
    /// network exists), then network, sandbox and containers. A container that cannot start is
    /// left Waiting with its reason while the others run.
    /// </summary>
    public PodRecord Start(V1Pod pod, string conflist, IReadOnlyList<ServiceInfo> services, VolumeInputs inputs)
    {
        var meta = pod.Metadata!;
        var uid = meta.Uid;
        var hostname = pod.Spec?.Hostname is { Length: > 0 } h ? h : meta.Name;
        IReadOnlyList<SandboxMount> mounts;
        var plan = PlanVolumes(pod);
        try
        {
            mounts = VolumeSetup.Prepare(pod, plan, inputs, DateTime.UtcNow);
            if ((pod.Spec?.Containers ?? []).Any(c => ContainerPlanner.IsAgnhost(c.Image ?? "")))
            {
                mounts = [.. mounts, AgnhostMount(pod)];
            }
            // Mount points the host lacks are made here, recorded for this pod, and removed after
            // its last user is gone (the holder's own mkdir would leave them on the host for ever).
            // Most pods have none: they never take the machine-wide lock.
            var onHost = mounts.OfType<SandboxMount.Bind>().Where(b => VolumeSetup.OnHostFilesystem(b.Target)).Select(b => (b.Target, b.IsFile)).ToList();
            if (onHost.Count > 0)
            {
                var directory = PodRecordStore.DirectoryOf(options.PodsDirectory, uid);
                Directory.CreateDirectory(directory);
                _mountPoints.Acquire(directory, onHost);
            }
        }
        catch
        {
            Forget(uid);
            throw;
        }
        var ips = network.Setup(uid, meta.NamespaceProperty, meta.Name, conflist);
        var record = new PodRecord
        {
            Uid = uid,
            Namespace = meta.NamespaceProperty,
            Name = meta.Name,
            Netns = network.NetnsName(uid),
            Hostname = hostname,
            PodIPs = ips.ToList(),
            StartTime = DateTime.UtcNow,
            MountTargets = mounts.OfType<SandboxMount.Bind>().Select(m => m.Target).ToList(),
        };
        try
        {
            BeforeContainers?.Invoke(pod, ips);
            var dns = new PodDnsSpec
            {
                Policy = pod.Spec?.DnsPolicy ?? "ClusterFirst",
                HostNetwork = pod.Spec?.HostNetwork == true,
                Nameservers = pod.Spec?.DnsConfig?.Nameservers?.ToArray() ?? [],
                Searches = pod.Spec?.DnsConfig?.Searches?.ToArray() ?? [],
                Options = pod.Spec?.DnsConfig?.Options?.Select(o => new KeyValuePair<string, string?>(o.Name, o.Value)).ToArray() ?? [],
            };
            var aliases = (pod.Spec?.HostAliases ?? []).Select(a => (a.Ip, (IReadOnlyList<string>)(a.Hostnames ?? []).ToArray())).ToArray();
            var sandbox = PodSandbox.Create(new PodSandboxSpec(
                record.Netns,
                hostname,
                PodRecordStore.DirectoryOf(options.PodsDirectory, uid),
                PodDns.Build(meta.NamespaceProperty, dns, new NodeDns(options.ClusterDns, options.ClusterDomain, ReadHostResolvConf())),
                PodHosts.Build(hostname, pod.Spec?.Subdomain, meta.NamespaceProperty, options.ClusterDomain, ips, aliases),
                inputs.AutomountServiceAccountToken ? account.For(meta.NamespaceProperty, inputs.Token) : new Dictionary<string, string>(),
                Path.Combine(options.StateDirectory, "shared"))
            {
                Mounts = mounts,
            });
            record.HolderPid = sandbox.HolderPid;
            foreach (var container in pod.Spec?.Containers ?? [])
            {
                record.Containers[container.Name] = new ContainerRecord { Image = container.Image ?? "" };
                StartContainer(pod, container, record, sandbox, services, inputs, DateTime.UtcNow);
            }
        }
        catch
        {
            Stop(record, graceful: false);
            network.Teardown(uid, meta.NamespaceProperty, meta.Name, conflist);
            Forget(uid);
            throw;
        }
        PodRecordStore.Save(options.PodsDirectory, record);
        return record;
    }

    /// <summary>Deletes pod <paramref name="uid"/>'s directory and record, and the host mount points only it used.</summary>
    public void Forget(string uid)
    {
        PodRecordStore.Delete(options.PodsDirectory, uid);
        _mountPoints.Release(PodRecordStore.DirectoryOf(options.PodsDirectory, uid));
    }

    /// <summary>
    /// A pod of the agnhost image gets /agnhost: a script that runs `podnet agnhost` (this very
    /// binary), read-only, in the pod's mount namespace only.
    /// </summary>
    private SandboxMount AgnhostMount(V1Pod pod)
    {
        var directory = PodRecordStore.DirectoryOf(options.PodsDirectory, pod.Metadata.Uid);
        Directory.CreateDirectory(directory);
        var script = Path.Combine(directory, "agnhost");
        var podnet = Environment.ProcessPath ?? "podnet";
        File.WriteAllText(script, $"#!/bin/sh\nexec {PodSandbox.Quote(podnet)} agnhost \"$@\"\n");
        AtomicWriter.SetMode(script, 0x1ED); // 0755
        return new SandboxMount.Bind(script, "/agnhost", ReadOnly: true, IsFile: true);
    }

    /// <summary>
    /// Starts (or restarts) one container of a running pod; one that cannot start is left
    /// Waiting with kubelet's reason and tried again after a back-off.
    /// </summary>
    public void StartContainer(V1Pod pod, V1Container container, PodRecord record, PodSandbox sandbox, IReadOnlyList<ServiceInfo> services, VolumeInputs inputs, DateTime now)
    {
        var state = record.Containers[container.Name];
        state.ExitCode = null;
        state.FinishedAt = null;
        state.RestartAt = null;
        state.Ready = false;
        state.ProbeSuccesses = state.ProbeFailures = state.LivenessFailures = 0;
        state.NextReadinessProbe = state.NextLivenessProbe = null;
        state.Error = null;
        state.WaitingReason = null;
        try
        {
            Run(pod, container, record, sandbox, services, inputs, state);
            state.FailedStarts = 0;
            state.StartedAt = now;
        }
        catch (ContainerStartException e)
        {
            state.Kind = "waiting";
            state.Pid = 0;
            state.StartedAt = null;
            // kubelet says ErrImagePull the first time, then ImagePullBackOff while it waits.
            state.WaitingReason = e.Reason == "ErrImagePull" && state.FailedStarts > 0 ? "ImagePullBackOff" : e.Reason;
            state.Error = e.Message;
            state.RestartAt = now + CrashBackoff.Delay(state.FailedStarts);
            state.FailedStarts++;
        }
    }

    private void Run(V1Pod pod, V1Container container, PodRecord record, PodSandbox sandbox, IReadOnlyList<ServiceInfo> services, VolumeInputs inputs, ContainerRecord state)
    {
        var ports = (container.Ports ?? []).Select(p => (p.ContainerPort, p.Protocol ?? "TCP")).ToArray();
        ContainerRun run;
        try
        {
            run = ContainerPlanner.Plan(new ContainerSpec(container.Name, container.Image ?? "", container.Command?.ToArray() ?? [], container.Args?.ToArray() ?? [], ports));
        }
        catch (ArgumentException e)
        {
            throw new ContainerStartException("ErrImagePull", $"Failed to pull image \"{container.Image}\": {e.Message}");
        }
        switch (run)
        {
            case ContainerRun.Process process:
                var env = ContainerEnvironment.Build(pod, container, record.PodIPs, options.NodeAddresses[0].ToString(), services, inputs);
                CheckExecutable(process.Argv[0], env, record.MountTargets);
                state.Kind = "process";
                state.Pid = sandbox.Start(container.Name, process.Argv, env, container.WorkingDir, state.RestartCount,
                    container.Stdin == true ? (container.StdinOnce == true ? ContainerStdin.Once : ContainerStdin.Open) : ContainerStdin.None,
                    ownPidNamespace: pod.Spec?.ShareProcessNamespace != true).Pid;
                break;
            case ContainerRun.BuiltInServer server:
                state.Kind = "server";
                PodServerDirectory.Write(options.ServeDirectory, ServeKey(record, container.Name),
                    new PodServerEntry(record.Hostname, Kernel.Netns.PathOf(record.Netns), server.HttpPorts, server.UdpPorts, server.HostnameOnly));
                break;
            default:
                state.Kind = "pause";
                break;
        }
    }

    /// <summary>
    /// CreateContainerError, in the runtime's words, for a command that is not on the node (the
    /// pod's filesystem is the node's, except under its volumes, which are not looked into).
    /// </summary>
    private static void CheckExecutable(string command, IReadOnlyList<KeyValuePair<string, string>> env, IReadOnlyList<string> mountTargets)
    {
        bool UnderMount(string path) => mountTargets.Any(t => path == t || path.StartsWith(t + "/", StringComparison.Ordinal));
        if (command.Contains('/'))
        {
            if (command.StartsWith('/') && !UnderMount(command) && !File.Exists(command))
            {
                throw new ContainerStartException("CreateContainerError", $"exec: \"{command}\": stat {command}: no such file or directory");
            }
            return;
        }
        var path = env.LastOrDefault(kv => kv.Key == "PATH").Value ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        var dirs = path.Split(':', StringSplitOptions.RemoveEmptyEntries);
        if (!dirs.Any(d => UnderMount(d) || File.Exists(Path.Combine(d, command))))
        {
            throw new ContainerStartException("CreateContainerError", $"exec: \"{command}\": executable file not found in $PATH");
        }
    }

    /// <summary>Stops every container: SIGTERM (or SIGKILL when not graceful) to processes; built-in servers stop serving.</summary>
    public void Stop(PodRecord record, bool graceful)
    {
        foreach (var (name, state) in record.Containers)
        {
            if (state.Kind == "server")
            {
                PodServerDirectory.Remove(options.ServeDirectory, ServeKey(record, name));
            }
            else if (state.Kind == "process" && state.Pid > 0 && state.ExitCode is null)
            {
                var process = ContainerOf(record, name, state);
                process.Signal(graceful ? Kernel.ProcessSignals.SigTerm : Kernel.ProcessSignals.SigKill);
            }
        }
    }

    public ContainerProcess ContainerOf(PodRecord record, string name, ContainerRecord state)
    {
        var logs = Path.Combine(PodRecordStore.DirectoryOf(options.PodsDirectory, record.Uid), "logs");
        return new ContainerProcess(name, state.Pid, PodSandbox.LogPathOf(logs, name, state.RestartCount), Path.Combine(logs, $"{name}.exit"));
    }

    public PodSandbox SandboxOf(PodRecord record) =>
        PodSandbox.Adopt(new PodSandboxSpec(record.Netns, record.Hostname, PodRecordStore.DirectoryOf(options.PodsDirectory, record.Uid), "", "", new Dictionary<string, string>()), record.HolderPid);

    private static string ServeKey(PodRecord record, string container) => $"{record.Uid}_{container}";

    private static string ReadHostResolvConf()
    {
        try
        {
            return File.ReadAllText("/etc/resolv.conf");
        }
        catch (IOException)
        {
            return "";
        }
    }
}

/// <summary>
/// The files a pod gets at /var/run/secrets/kubernetes.io/serviceaccount: token (the pod's own,
/// bound to it: <see cref="PodTokens"/>), ca.crt, namespace.
/// </summary>
public sealed class ServiceAccountFiles(string caCertificate)
{
    public IReadOnlyDictionary<string, string> For(string ns, string token) =>
        new Dictionary<string, string> { ["token"] = token, ["ca.crt"] = caCertificate, ["namespace"] = ns };
}

/// <summary>kubelet's back-off for restarting a container: 10 s, doubling, at most 5 min.</summary>
public static class CrashBackoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan Max = TimeSpan.FromMinutes(5);

    /// <summary>The wait before the next try after <paramref name="failures"/> earlier ones (0: the first).</summary>
    public static TimeSpan Delay(int failures)
    {
        var delay = Initial * Math.Pow(2, Math.Clamp(failures, 0, 16));
        return delay < Max ? delay : Max;
    }
}
