using k8s.Models;
using Podnet.Agent.TestServer;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Runtime;

/// <summary>
/// Starts a pod on this node: network (CNI), sandbox (mount and UTS namespaces with the pod's
/// files), then its containers; and starts single containers again for restarts.
/// </summary>
public sealed class PodStarter(AgentOptions options, PodNetwork network, ServiceAccountFiles account)
{
    /// <summary>
    /// Called once the pod has its network and addresses and before any of its processes
    /// exists (the policy engine isolates it here); throwing fails the start, which is retried.
    /// </summary>
    public Action<V1Pod, IReadOnlyList<string>>? BeforeContainers { get; init; }

    public PodRecord Start(V1Pod pod, string conflist, IReadOnlyList<ServiceInfo> services)
    {
        var meta = pod.Metadata!;
        var uid = meta.Uid;
        var hostname = pod.Spec?.Hostname is { Length: > 0 } h ? h : meta.Name;
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
                account.For(meta.NamespaceProperty),
                Path.Combine(options.StateDirectory, "shared")));
            record.HolderPid = sandbox.HolderPid;
            foreach (var container in pod.Spec?.Containers ?? [])
            {
                record.Containers[container.Name] = new ContainerRecord { Image = container.Image ?? "" };
                StartContainer(pod, container, record, sandbox, services);
            }
        }
        catch
        {
            Stop(record, graceful: false);
            network.Teardown(uid, meta.NamespaceProperty, meta.Name, conflist);
            PodRecordStore.Delete(options.PodsDirectory, uid);
            throw;
        }
        PodRecordStore.Save(options.PodsDirectory, record);
        return record;
    }

    /// <summary>Starts (or restarts) one container of a running pod.</summary>
    public void StartContainer(V1Pod pod, V1Container container, PodRecord record, PodSandbox sandbox, IReadOnlyList<ServiceInfo> services)
    {
        var state = record.Containers[container.Name];
        state.ExitCode = null;
        state.FinishedAt = null;
        state.RestartAt = null;
        state.Ready = false;
        state.ProbeSuccesses = state.ProbeFailures = state.LivenessFailures = 0;
        state.NextReadinessProbe = state.NextLivenessProbe = null;
        state.Error = null;
        var ports = (container.Ports ?? []).Select(p => (p.ContainerPort, p.Protocol ?? "TCP")).ToArray();
        var run = ContainerPlanner.Plan(new ContainerSpec(container.Name, container.Image ?? "", container.Command?.ToArray() ?? [], container.Args?.ToArray() ?? [], ports));
        switch (run)
        {
            case ContainerRun.Process process:
                var env = ContainerEnvironment.Build(pod, container, record.PodIPs, options.NodeAddresses[0].ToString(), services);
                state.Kind = "process";
                state.Pid = sandbox.Start(container.Name, process.Argv, env, container.WorkingDir, state.RestartCount).Pid;
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
        state.StartedAt = DateTime.UtcNow;
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
            else if (state.Kind == "process" && state.Pid > 0)
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

/// <summary>The files a pod gets at /var/run/secrets/kubernetes.io/serviceaccount: token, ca.crt, namespace.</summary>
public sealed class ServiceAccountFiles(string token, string caCertificate)
{
    public IReadOnlyDictionary<string, string> For(string ns) =>
        new Dictionary<string, string> { ["token"] = token, ["ca.crt"] = caCertificate, ["namespace"] = ns };
}
