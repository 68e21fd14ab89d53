using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Agent.Node;

/// <summary>
/// The kubelet's node duties: register the Node (labels, InternalIP addresses, capacity, a
/// Ready condition), keep its Lease in kube-node-lease renewed, and refresh the Ready
/// condition's heartbeat.
/// </summary>
public sealed class NodeRegistration(IKubernetes client, AgentOptions options, MacAddress? vtepMac)
{
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(30);

    /// <summary>A quarter of the Lease's duration, as kubelet renews it (10 s of 40).</summary>
    public TimeSpan LeaseRenewInterval => TimeSpan.FromSeconds(options.NodeLeaseDurationSeconds / 4.0);
    public const string KubeletVersion = "v1.33.0-podnet";

    public async Task RegisterAsync(CancellationToken token)
    {
        var name = options.NodeName;
        var annotations = new Dictionary<string, string>();
        if (vtepMac is { } mac)
        {
            annotations[NodeInfo.VtepMacAnnotation] = mac.ToString();
        }
        var labels = new Dictionary<string, string>
        {
            ["kubernetes.io/hostname"] = name,
            ["kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
            ["beta.kubernetes.io/os"] = "linux",
            ["beta.kubernetes.io/arch"] = "amd64",
        };
        foreach (var (key, value) in options.NodeLabels)
        {
            labels[key] = value;
        }
        try
        {
            await client.CoreV1.CreateNodeAsync(new V1Node
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = labels, Annotations = annotations },
                Spec = new V1NodeSpec(),
            }, cancellationToken: token);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            var patch = JsonSerializer.Serialize(new { metadata = new { labels, annotations } });
            await client.CoreV1.PatchNodeAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, cancellationToken: token);
        }
        await ReportStatusAsync(token);
    }

    /// <summary>Renews the Lease every quarter of its duration (10 s) and the Ready heartbeat every 30 s until cancelled; failures are retried.</summary>
    public async Task HeartbeatAsync(CancellationToken token)
    {
        var lastStatus = DateTime.UtcNow;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RenewLeaseAsync(token);
                if (DateTime.UtcNow - lastStatus >= StatusInterval)
                {
                    await ReportStatusAsync(token);
                    lastStatus = DateTime.UtcNow;
                }
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
            {
                options.Log($"node heartbeat failed, retrying: {e.Message}");
            }
            try
            {
                await Task.Delay(LeaseRenewInterval, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task ReportStatusAsync(CancellationToken token)
    {
        var now = DateTime.UtcNow;
        var current = await client.CoreV1.ReadNodeAsync(options.NodeName, cancellationToken: token);
        var ready = current.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        var capacity = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ["memory"] = new("16Gi"),
            ["pods"] = new("250"),
        };
        var patch = new V1Node
        {
            Status = new V1NodeStatus
            {
                Addresses = options.NodeAddresses.Select(a => new V1NodeAddress { Type = "InternalIP", Address = a.ToString() })
                    .Append(new V1NodeAddress { Type = "Hostname", Address = options.NodeName })
                    .ToList(),
                Capacity = capacity,
                Allocatable = capacity,
                DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = options.KubeletPort } },
                Conditions =
                [
                    new V1NodeCondition
                    {
                        Type = "Ready",
                        Status = "True",
                        Reason = "KubeletReady",
                        Message = "podnet agent is posting ready status",
                        LastHeartbeatTime = now,
                        LastTransitionTime = ready?.Status == "True" ? ready.LastTransitionTime ?? now : now,
                    },
                ],
                NodeInfo = new V1NodeSystemInfo
                {
                    KubeletVersion = KubeletVersion,
                    KubeProxyVersion = KubeletVersion,
                    OperatingSystem = "linux",
                    Architecture = "amd64",
                    ContainerRuntimeVersion = "podnet://0.1",
                    OsImage = "Podnet lab node",
                    KernelVersion = Environment.OSVersion.Version.ToString(),
                    MachineID = "",
                    SystemUUID = "",
                    BootID = "",
                },
            },
        };
        await client.CoreV1.PatchNodeStatusAsync(new V1Patch(KubernetesJson.Serialize(patch), V1Patch.PatchType.MergePatch), options.NodeName, cancellationToken: token);
    }

    private async Task RenewLeaseAsync(CancellationToken token)
    {
        var now = DateTime.UtcNow;
        try
        {
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(options.NodeName, "kube-node-lease", cancellationToken: token);
            lease.Spec.RenewTime = now;
            lease.Spec.HolderIdentity = options.NodeName;
            lease.Spec.LeaseDurationSeconds = options.NodeLeaseDurationSeconds;
            await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.NodeName, "kube-node-lease", cancellationToken: token);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
            {
                Metadata = new V1ObjectMeta { Name = options.NodeName, NamespaceProperty = "kube-node-lease" },
                Spec = new V1LeaseSpec { HolderIdentity = options.NodeName, LeaseDurationSeconds = options.NodeLeaseDurationSeconds, RenewTime = now, AcquireTime = now },
            }, "kube-node-lease", cancellationToken: token);
        }
    }
}
