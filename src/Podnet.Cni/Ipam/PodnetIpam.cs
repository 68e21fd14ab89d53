using System.Net;
using Podnet.Cni.Config;
using Podnet.Cni.Spec;
using Podnet.Kernel;

namespace Podnet.Cni.Ipam;

/// <summary>podnet-ipam: host-local's behaviour over <see cref="AddressStore"/>, with GC and STATUS.</summary>
internal sealed class PodnetIpam(IpamConfig config, string containerId, string ifName) : IIpam
{
    private readonly AddressStore _store = new(config.NetworkDirectory);

    public CniResult Add()
    {
        using var _ = Lock(exclusive: false);
        if (!_store.TryCreateAttachment(containerId, ifName))
        {
            var held = _store.ReadAttachment(containerId, ifName) ?? [];
            throw new CniException(CniErrorCode.DuplicateAllocation,
                $"container {containerId} interface {ifName} already has an address in network {config.NetworkName} ({string.Join(", ", held)}): duplicate allocation is not allowed, DEL it first");
        }
        var reserved = new List<(IPAddress Address, IpRange Range)>();
        try
        {
            CheckRequestedIps();
            for (var i = 0; i < config.RangeSets.Count; i++)
            {
                reserved.Add(Reserve(i, config.RangeSets[i]));
            }
            _store.WriteAttachment(containerId, ifName, reserved.Select(r => r.Address));
        }
        catch
        {
            var owner = AddressStore.Owner(containerId, ifName);
            foreach (var (address, _) in reserved)
            {
                _store.Release(address, owner);
            }
            _store.DeleteAttachment(containerId, ifName);
            throw;
        }
        return new CniResult
        {
            Ips = reserved.Select(r => new CniIpConfig
            {
                Address = $"{r.Address}/{r.Range.Subnet.PrefixLength}",
                Gateway = r.Range.Gateway?.ToString(),
            }).ToList(),
            Routes = config.Routes.Count == 0 ? null : config.Routes.Select(r => new CniRoute { Dst = r.Destination.ToString(), Gw = r.Gateway?.ToString() }).ToList(),
            Dns = ResolvConf.Read(config.ResolvConf),
        };
    }

    public IReadOnlyList<IPAddress> Del()
    {
        if (!Directory.Exists(config.NetworkDirectory))
        {
            return [];
        }
        using var _ = Lock(exclusive: false);
        var owner = AddressStore.Owner(containerId, ifName);
        var addresses = _store.ReadAttachment(containerId, ifName);
        if (addresses is null or { Count: 0 })
        {
            // No record (or an ADD that crashed before writing it): find the addresses by owner.
            addresses = _store.Reservations().Where(r => r.Owner == owner).Select(r => r.Address).ToArray();
        }
        var released = addresses.Where(a => _store.Release(a, owner)).ToArray();
        _store.DeleteAttachment(containerId, ifName);
        return released;
    }

    public void Check(IReadOnlyList<IPAddress>? expected)
    {
        using var _ = Lock(exclusive: false);
        var addresses = _store.ReadAttachment(containerId, ifName);
        if (addresses is null or { Count: 0 })
        {
            throw new CniException(CniErrorCode.UnknownContainer,
                $"container {containerId} interface {ifName} holds no address in network {config.NetworkName}");
        }
        var owner = AddressStore.Owner(containerId, ifName);
        foreach (var address in addresses)
        {
            if (_store.OwnerOf(address) != owner)
            {
                throw new CniException(CniErrorCode.CheckFailed,
                    $"address {address} of container {containerId} interface {ifName} is not reserved for it in network {config.NetworkName}");
            }
            if (expected is not null && !expected.Contains(address))
            {
                throw new CniException(CniErrorCode.CheckFailed,
                    $"address {address} is reserved for container {containerId} interface {ifName} in network {config.NetworkName} but prevResult does not give it");
            }
        }
        // prevResult's addresses in our ranges must be ours; others belong to other plugins of the chain.
        foreach (var address in expected ?? [])
        {
            if (config.RangeSets.Any(s => s.Contains(address)) && !addresses.Contains(address))
            {
                throw new CniException(CniErrorCode.CheckFailed,
                    $"prevResult gives container {containerId} interface {ifName} address {address}, which is not reserved for it in network {config.NetworkName}");
            }
        }
    }

    /// <summary>Releases every reservation whose attachment is not in <paramref name="valid"/>; keeps going past errors.</summary>
    public IReadOnlyList<IPAddress> Gc(IReadOnlyList<CniAttachment> valid)
    {
        if (!Directory.Exists(config.NetworkDirectory))
        {
            return [];
        }
        var released = new List<IPAddress>();
        var keep = valid.Select(a => AddressStore.Owner(a.ContainerId, a.IfName)).ToHashSet(StringComparer.Ordinal);
        var errors = new List<string>();
        using var _ = Lock(exclusive: true);
        foreach (var (address, owner) in _store.Reservations().ToArray())
        {
            if (owner is null || keep.Contains(owner))
            {
                continue;
            }
            Try(errors, $"release {address}", () =>
            {
                if (_store.Release(address, owner))
                {
                    released.Add(address);
                }
            });
        }
        foreach (var (cid, ifName) in _store.AttachmentRecords().ToArray())
        {
            if (!keep.Contains(AddressStore.Owner(cid, ifName)))
            {
                Try(errors, $"remove attachment record {cid}/{ifName}", () => _store.DeleteAttachment(cid, ifName));
            }
        }
        if (errors.Count > 0)
        {
            throw new CniException(CniErrorCode.IoFailure, $"GC of network {config.NetworkName} finished with {errors.Count} error(s): {string.Join("; ", errors)}");
        }
        return released;
    }

    /// <summary>The attachments (records or reservation owners) that are not in <paramref name="valid"/>, for GC.</summary>
    public IReadOnlyList<(string ContainerId, string IfName)> StaleAttachments(IReadOnlyList<CniAttachment> valid)
    {
        if (!Directory.Exists(config.NetworkDirectory))
        {
            return [];
        }
        var keep = valid.Select(a => AddressStore.Owner(a.ContainerId, a.IfName)).ToHashSet(StringComparer.Ordinal);
        using var _ = Lock(exclusive: false);
        var owners = _store.AttachmentRecords().Select(r => AddressStore.Owner(r.ContainerId, r.IfName))
            .Concat(_store.Reservations().Select(r => r.Owner).OfType<string>());
        return owners.Where(o => !keep.Contains(o)).Distinct(StringComparer.Ordinal)
            .Select(o => o.Split("\r\n", 2)).Where(p => p.Length == 2).Select(p => (p[0], p[1])).ToArray();
    }

    /// <summary>Fails with code 50 when a range set has no free address left (or the store is unusable).</summary>
    public void Status()
    {
        try
        {
            _store.EnsureCreated();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniErrorCode.NotAvailable, $"IPAM data directory {config.NetworkDirectory} is not usable: {e.Message}");
        }
        var reserved = _store.Reservations().Select(r => r.Address).ToArray();
        for (var i = 0; i < config.RangeSets.Count; i++)
        {
            var set = config.RangeSets[i];
            var size = set.Ranges.Aggregate(UInt128.Zero, (sum, r) => sum + r.Size);
            var used = (UInt128)reserved.Count(set.Contains);
            if (used >= size)
            {
                throw new CniException(CniErrorCode.NotAvailable,
                    $"no free address in network {config.NetworkName}: range set {i} ({set}) has all {size} addresses reserved");
            }
        }
    }

    /// <summary>How many attachments hold addresses (for STATUS).</summary>
    public int AttachmentCount() => _store.AttachmentRecords().Count();

    private (IPAddress, IpRange) Reserve(int index, RangeSet set)
    {
        var requested = config.RequestedIps.FirstOrDefault(set.Contains);
        if (requested is not null)
        {
            if (!_store.TryReserve(requested, containerId, ifName))
            {
                var holder = _store.OwnerOf(requested)?.Replace("\r\n", "/", StringComparison.Ordinal);
                throw new CniException(CniErrorCode.InvalidConfig, $"requested address {requested} is already reserved (by {holder}) in network {config.NetworkName}");
            }
            return (requested, set.Ranges.First(r => r.Contains(requested)));
        }
        foreach (var candidate in Candidates.Of(set, _store.LastReserved(index)))
        {
            if (_store.TryReserve(candidate, containerId, ifName))
            {
                _store.SetLastReserved(index, candidate);
                return (candidate, set.Ranges.First(r => r.Contains(candidate)));
            }
        }
        throw new CniException(CniErrorCode.RangeExhausted,
            $"no free address left in network {config.NetworkName}, range set {index} ({set}): all {set.Ranges.Aggregate(UInt128.Zero, (s, r) => s + r.Size)} addresses are reserved");
    }

    private void CheckRequestedIps()
    {
        foreach (var ip in config.RequestedIps)
        {
            if (!config.RangeSets.Any(s => s.Contains(ip)))
            {
                throw new CniException(CniErrorCode.InvalidConfig, $"requested address {ip} is in no range of network {config.NetworkName}");
            }
        }
    }

    private FileLock Lock(bool exclusive)
    {
        try
        {
            _store.EnsureCreated();
            return FileLock.Acquire(_store.LockPath, exclusive, config.LockTimeout);
        }
        catch (TimeoutException e)
        {
            throw new CniException(CniErrorCode.TryAgainLater,
                $"the address store of network {config.NetworkName} is busy ({(exclusive ? "an operation is running" : "a GC is running")}): {e.Message}; try again later");
        }
    }

    private static void Try(List<string> errors, string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{what}: {e.Message}");
        }
    }
}
