using System.Net;
using System.Text.Json;
using Podnet.Cni.Spec;
using Podnet.Core.Net;

namespace Podnet.Cni.Config;

/// <summary>A validated podnet-cni configuration: the bridge plugin's keys plus what the runtime injected.</summary>
internal sealed record PluginConfig
{
    public required string Version { get; init; }
    public required string Name { get; init; }
    public string Bridge { get; init; } = "cni0";
    public bool IsGateway { get; init; }
    public bool IsDefaultGateway { get; init; }
    public bool ForceAddress { get; init; }
    public bool IpMasq { get; init; }
    public int Mtu { get; init; }
    public bool HairpinMode { get; init; }
    public bool PromiscMode { get; init; }
    public int Vlan { get; init; }
    public bool PreserveDefaultVlan { get; init; } = true;
    public bool EnableDad { get; init; }

    /// <summary>The ipam.type: "podnet-ipam" runs in-process, anything else is executed from CNI_PATH.</summary>
    public required string IpamType { get; init; }

    /// <summary>The in-process IPAM's configuration; null when IPAM is delegated.</summary>
    public IpamConfig? Ipam { get; init; }

    public MacAddress? Mac { get; init; }
    public CniDns? Dns { get; init; }
    public JsonElement? PrevResult { get; init; }

    /// <summary>GC's list of attachments to keep (either spelling of the key); null when not given.</summary>
    public IReadOnlyList<CniAttachment>? ValidAttachments { get; init; }
}

/// <summary>A validated host-local-style IPAM configuration.</summary>
internal sealed record IpamConfig
{
    public const string DefaultDataDir = "/var/lib/cni/networks";

    public required string NetworkName { get; init; }

    /// <summary>One address is allocated from each range set (so two sets give dual-stack).</summary>
    public required IReadOnlyList<RangeSet> RangeSets { get; init; }

    public IReadOnlyList<IpamRoute> Routes { get; init; } = [];
    public string DataDir { get; init; } = DefaultDataDir;
    public string? ResolvConf { get; init; }
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Specific addresses the runtime asked for (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips).</summary>
    public IReadOnlyList<IPAddress> RequestedIps { get; init; } = [];

    /// <summary>This network's directory in the store.</summary>
    public string NetworkDirectory => Path.Combine(DataDir, NetworkName);
}

/// <summary>A pool of ranges; an address comes from the first range with a free one.</summary>
internal sealed record RangeSet(IReadOnlyList<IpRange> Ranges)
{
    public bool Contains(IPAddress address) => Ranges.Any(r => r.Contains(address));

    public override string ToString() => string.Join(",", Ranges.Select(r => r.ToString()));
}

/// <summary>Allocatable addresses <see cref="Start"/>..<see cref="End"/> of <see cref="Subnet"/>, never the gateway.</summary>
internal sealed record IpRange(IPNetwork Subnet, IPAddress Start, IPAddress End, IPAddress? Gateway)
{
    public bool Contains(IPAddress address) =>
        address.AddressFamily == Start.AddressFamily && IpMath.Compare(address, Start) >= 0 && IpMath.Compare(address, End) <= 0;

    public bool Overlaps(IpRange other) =>
        Start.AddressFamily == other.Start.AddressFamily && IpMath.Compare(Start, other.End) <= 0 && IpMath.Compare(other.Start, End) <= 0;

    /// <summary>How many addresses the range holds, not counting the gateway, saturated.</summary>
    public UInt128 Size
    {
        get
        {
            var count = IpMath.ToInteger(End) - IpMath.ToInteger(Start);
            count = count == UInt128.MaxValue ? count : count + 1;
            return Gateway is not null && Contains(Gateway) ? count - 1 : count;
        }
    }

    public override string ToString() => $"{Subnet} ({Start}-{End})";
}

internal sealed record IpamRoute(IPNetwork Destination, IPAddress? Gateway);
