using System.Net;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Index;

/// <summary>Pod records `a-b-c-d.ns.pod.zone` (CoreDNS's `pods` option).</summary>
public enum PodsMode
{
    /// <summary>No pod records: such names are NXDOMAIN.</summary>
    Disabled,

    /// <summary>Any well-formed address in an existing namespace answers (kube-dns compatible; kubeadm's default).</summary>
    Insecure,

    /// <summary>Only addresses of pods that exist in that namespace.</summary>
    Verified,
}

/// <summary>The records at one name: a prebuilt set per type, none for an empty non-terminal (the name exists, NODATA for every type).</summary>
public sealed class NameNode
{
    public RecordSet? A { get; internal set; }

    public RecordSet? Aaaa { get; internal set; }

    public RecordSet? Srv { get; internal set; }

    public RecordSet? Txt { get; internal set; }

    public RecordSet? Ptr { get; internal set; }

    public RecordSet? Cname { get; internal set; }

    public RecordSet? Soa { get; internal set; }

    public RecordSet? Get(ushort type) => type switch
    {
        RecordType.A => A,
        RecordType.Aaaa => Aaaa,
        RecordType.Srv => Srv,
        RecordType.Txt => Txt,
        RecordType.Ptr => Ptr,
        RecordType.Cname => Cname,
        RecordType.Soa => Soa,
        _ => null,
    };

    /// <summary>Every set at the name, for ANY.</summary>
    public IEnumerable<RecordSet> All() => new[] { A, Aaaa, Srv, Txt, Ptr, Cname, Soa }.OfType<RecordSet>();
}

/// <summary>
/// What the resolver reads: the zone's names by their lower-cased dotted key, looked up by span
/// so a query allocates nothing. An implementation is immutable once published; the watch
/// replaces it as a whole.
/// </summary>
public interface IRecordIndex
{
    /// <summary>False until the first full sync with the API: the zone then answers SERVFAIL.</summary>
    bool Synced { get; }

    /// <summary>The cluster domain, lower-case, without a trailing dot.</summary>
    string Zone { get; }

    uint Ttl { get; }

    PodsMode Pods { get; }

    /// <summary>The zone's SOA, for the authority section of negative answers.</summary>
    RecordSet Soa { get; }

    NameNode? Find(ReadOnlySpan<char> key);

    bool HasNamespace(ReadOnlySpan<char> name);

    /// <summary>For `pods verified`: whether a pod in <paramref name="ns"/> has <paramref name="address"/>.</summary>
    bool HasPod(ReadOnlySpan<char> ns, IPAddress address);
}

/// <summary>The index <see cref="IndexBuilder"/> makes.</summary>
public sealed class RecordIndex : IRecordIndex
{
    private readonly Dictionary<string, NameNode>.AlternateLookup<ReadOnlySpan<char>> _names;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _namespaces;
    private readonly Dictionary<IPAddress, string[]> _podNamespaces;

    internal RecordIndex(bool synced, DnsOptions options, RecordSet soa, Dictionary<string, NameNode> names, HashSet<string> namespaces, Dictionary<IPAddress, string[]> podNamespaces)
    {
        Synced = synced;
        Zone = options.Zone;
        Ttl = options.Ttl;
        Pods = options.Pods;
        Soa = soa;
        NameCount = names.Count;
        _names = names.GetAlternateLookup<ReadOnlySpan<char>>();
        _namespaces = namespaces.GetAlternateLookup<ReadOnlySpan<char>>();
        _podNamespaces = podNamespaces;
    }

    public bool Synced { get; }

    public string Zone { get; }

    public uint Ttl { get; }

    public PodsMode Pods { get; }

    public RecordSet Soa { get; }

    public int NameCount { get; }

    /// <summary>An index that answers SERVFAIL for the zone: what the server has before its first sync.</summary>
    public static RecordIndex Unsynced(DnsOptions options) => new(false, options, IndexBuilder.BuildSoa(options, 0), new(StringComparer.Ordinal), new(StringComparer.Ordinal), []);

    public NameNode? Find(ReadOnlySpan<char> key) => _names.TryGetValue(key, out var node) ? node : null;

    public bool HasNamespace(ReadOnlySpan<char> name) => _namespaces.Contains(name);

    public bool HasPod(ReadOnlySpan<char> ns, IPAddress address)
    {
        if (_podNamespaces.TryGetValue(address, out var namespaces))
        {
            foreach (var candidate in namespaces)
            {
                if (ns.SequenceEqual(candidate))
                {
                    return true;
                }
            }
        }
        return false;
    }
}

/// <summary>What the zone is and how it answers.</summary>
public sealed record DnsOptions
{
    private readonly string _zone = "cluster.local";

    /// <summary>The cluster domain; stored lower-case without a trailing dot.</summary>
    public string Zone
    {
        get => _zone;
        init
        {
            var zone = value.TrimEnd('.').ToLowerInvariant();
            if (zone.Length == 0 || !Names.TryEncode(zone, out _))
            {
                throw new ArgumentException($"zone '{value}' is not a domain name");
            }
            _zone = zone;
        }
    }

    /// <summary>TTL of every record but dns-version's; also the SOA's minimum (negative caching). 0-3600 as CoreDNS allows.</summary>
    public uint Ttl
    {
        get;
        init => field = value <= 3600 ? value : throw new ArgumentException($"the TTL must be 0-3600 seconds, not {value}");
    } = 30;

    public PodsMode Pods { get; init; } = PodsMode.Insecure;
}
