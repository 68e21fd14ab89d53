using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Records;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Index;

/// <summary>
/// Builds the whole record index from a snapshot, as a pure function: every answer the zone
/// can give (spec 1.1.0 plus CoreDNS's conventions) is encoded once here, so a query is a
/// lookup and a copy. The watch rebuilds it after each batch of changes.
/// </summary>
/// <remarks>
/// Names that exist hold their records; every ancestor of such a name inside the zone is an
/// empty non-terminal (it exists, NODATA for every type), so `ns.svc.zone`, `svc.zone` and
/// `_tcp.web.ns.svc.zone` answer NODATA while deeper unknown names are NXDOMAIN. A headless
/// Service without ready endpoints publishes nothing: its name is NXDOMAIN, as the spec says.
/// Reverse names are not the zone's: only those with a PTR are held, without ancestors.
/// </remarks>
public static class IndexBuilder
{
    public const string SchemaVersion = "1.1.0";

    /// <summary>The dns-version TXT's TTL (CoreDNS's figure).</summary>
    public const uint VersionTtl = 28800;

    public static RecordIndex Build(DnsSnapshot snapshot, DnsOptions options, uint serial)
    {
        var zone = new ZoneBuilder(options);
        zone.Apex(BuildSoa(options, serial));
        zone.Ensure($"svc.{options.Zone}");
        zone.Ensure($"pod.{options.Zone}");
        var namespaces = new HashSet<string>(snapshot.Namespaces.Select(n => n.ToLowerInvariant()), StringComparer.Ordinal);
        var slices = snapshot.EndpointSlices.ToLookup(s => (s.Namespace, s.ServiceName));
        foreach (var service in snapshot.Services)
        {
            namespaces.Add(service.Namespace.ToLowerInvariant());
            zone.AddService(service, slices[(service.Namespace, service.Name)]);
        }
        foreach (var ns in namespaces)
        {
            zone.Ensure($"{ns}.svc.{options.Zone}");
            zone.Ensure($"{ns}.pod.{options.Zone}");
        }
        var pods = options.Pods == PodsMode.Verified
            ? snapshot.Pods.SelectMany(p => p.Addresses.Select(a => (Address: a, Namespace: p.Namespace.ToLowerInvariant())))
                .GroupBy(p => p.Address)
                .ToDictionary(g => g.Key, g => g.Select(p => p.Namespace).Distinct().ToArray())
            : [];
        return new RecordIndex(true, options, BuildSoa(options, serial), zone.Freeze(), namespaces, pods);
    }

    /// <summary>
    /// The zone's SOA: `zone SOA ns.dns.zone. hostmaster.zone. serial 7200 1800 86400 ttl`, the
    /// record's own TTL at most 300 s (CoreDNS), MINIMUM the zone's TTL so negative answers are
    /// cached as long as positive ones.
    /// </summary>
    public static RecordSet BuildSoa(DnsOptions options, uint serial)
    {
        var mname = Names.Encode($"ns.dns.{options.Zone}");
        var rname = Names.Encode($"hostmaster.{options.Zone}");
        var rdata = new byte[mname.Length + rname.Length + 20];
        mname.CopyTo(rdata, 0);
        rname.CopyTo(rdata, mname.Length);
        var numbers = rdata.AsSpan(mname.Length + rname.Length);
        BinaryPrimitives.WriteUInt32BigEndian(numbers, serial);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[4..], 7200);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[8..], 1800);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[12..], 86400);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[16..], options.Ttl);
        var set = new RecordSetBuilder();
        set.Add(RecordType.Soa, Math.Min(options.Ttl, 300), rdata);
        return set.Build();
    }

    /// <summary>The PTR owner of an address: `d.c.b.a.in-addr.arpa` or 32 nibbles under `ip6.arpa`.</summary>
    public static string ReverseName(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}.in-addr.arpa";
        }
        var nibbles = new List<string>(33);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            nibbles.Add((bytes[i] & 0xF).ToString("x"));
            nibbles.Add((bytes[i] >> 4).ToString("x"));
        }
        nibbles.Add("ip6.arpa");
        return string.Join('.', nibbles);
    }

    /// <summary>An address as one label: dots (IPv4) or colons (IPv6) become dashes, as CoreDNS names endpoints and pods.</summary>
    public static string Dashed(IPAddress address) => address.ToString().Replace('.', '-').Replace(':', '-');
}
