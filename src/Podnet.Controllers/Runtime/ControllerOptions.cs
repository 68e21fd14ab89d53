using System.Net;
using Podnet.Controllers.EndpointSlices;
using Podnet.Controllers.LoadBalancer;
using Podnet.Controllers.NodeIpam;

namespace Podnet.Controllers.Runtime;

/// <summary>Settings of the controllers; the defaults are the lab's (ARCHITECTURE.md).</summary>
public sealed record ControllerOptions
{
    public NodeIpamConfig NodeIpam { get; init; } = DefaultNodeIpam;

    /// <summary>Only the IPv4 cluster CIDR by default: the lab is IPv4 unless it is made dual-stack.</summary>
    public static NodeIpamConfig DefaultNodeIpam => new([IPNetwork.Parse("10.244.0.0/16")]);

    public IReadOnlyList<AddressRange> LoadBalancerPool { get; init; } =
        [AddressRange.Parse("172.18.0.200-172.18.0.250"), AddressRange.Parse("fd00:172:18::200-fd00:172:18::250")];

    public int MaxEndpointsPerSlice { get; init; } = EndpointSliceLabels.DefaultMaxEndpointsPerSlice;

    /// <summary>How long a controller trusts its own writes that the cache has not shown yet.</summary>
    public TimeSpan ExpectationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The least time between two syncs of one controller: events that come in meanwhile (200
    /// pods turning Ready) are taken in by one recompute and one status write, not one each.
    /// </summary>
    public TimeSpan MinSyncInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long a node may go without renewing its Lease before it is marked Unknown
    /// (kube-controller-manager's --node-monitor-grace-period, 40 s by default).
    /// </summary>
    public TimeSpan NodeMonitorGracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>The clock of the controllers that act on time passing (node lifecycle, eviction, DaemonSet availability).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The cluster CA (PEM) the rootcacert controller publishes as each namespace's kube-root-ca.crt; null: that controller cannot run.</summary>
    public string? RootCaPem { get; init; }

    /// <summary>One line per notable thing (errors, retries); null for silence.</summary>
    public Action<string>? Log { get; init; }
}
