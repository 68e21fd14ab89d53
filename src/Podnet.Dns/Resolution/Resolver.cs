using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Index;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Resolution;

/// <summary>What the server does after <see cref="Resolver.Resolve"/>.</summary>
public enum ResolveOutcome
{
    /// <summary>The response is complete: finish and send it.</summary>
    Answered,

    /// <summary>The name is not the cluster's: the forwarder answers it (SERVFAIL when there is no upstream).</summary>
    Forward,

    /// <summary>An ExternalName CNAME is written; its out-of-zone target's A/AAAA come from the forwarder and are appended.</summary>
    Chase,
}

/// <summary>
/// Answers a parsed query from an <see cref="IRecordIndex"/>, writing straight into the response:
/// a lookup by span and copies of prebuilt sets, nothing allocated for zone names.
/// </summary>
/// <remarks>
/// Order of decisions: opcode (NOTIMP), EDNS version (BADVERS), class (REFUSED), zone
/// transfers (REFUSED); then names in the cluster zone are answered authoritatively (SERVFAIL
/// before the first sync, NXDOMAIN/NODATA with the SOA); reverse names with a PTR of ours are
/// answered, other reverse names and every other name go to the forwarder, as kubeadm's
/// Corefile does with `fallthrough in-addr.arpa ip6.arpa`.
/// </remarks>
public static class Resolver
{
    /// <summary>Offset of the question's name in every message.</summary>
    public const int QuestionName = Limits.HeaderLength;

    public static ResolveOutcome Resolve(IRecordIndex index, in Query query, scoped ReadOnlySpan<byte> name, ref ResponseBuilder response)
    {
        response.Start(query, name);
        if (query.Opcode != 0)
        {
            response.SetRcode(ResponseCode.NotImp);
            return ResolveOutcome.Answered;
        }
        if (query.HasEdns && query.EdnsVersion != 0)
        {
            response.SetRcode(ResponseCode.BadVers);
            return ResolveOutcome.Answered;
        }
        if (query.Class != RecordClass.In || query.Type is RecordType.Axfr or RecordType.Ixfr)
        {
            response.SetRcode(ResponseCode.Refused);
            return ResolveOutcome.Answered;
        }
        Span<char> buffer = stackalloc char[Limits.MaxNameLength];
        var length = Names.ToKey(name[..query.NameLength], buffer, out var exact);
        if (length < 0)
        {
            return ResolveOutcome.Forward;
        }
        var key = buffer[..length];
        if (InZone(key, index.Zone))
        {
            // A name of ours with a byte no key has (a space, a dot inside a label) does not exist.
            return Authoritative(index, query, key, exact, ref response);
        }
        if (!exact)
        {
            return ResolveOutcome.Forward;
        }
        if (index.Synced && IsReverse(key) && index.Find(key) is { Ptr: { } ptr } && query.Type is RecordType.Ptr or RecordType.Any)
        {
            response.SetFlags(HeaderFlags.Authoritative);
            response.WriteSet(ptr, QuestionName);
            return ResolveOutcome.Answered;
        }
        return ResolveOutcome.Forward;
    }

    public static bool InZone(ReadOnlySpan<char> key, string zone) =>
        key.EndsWith(zone, StringComparison.Ordinal) && (key.Length == zone.Length || key[key.Length - zone.Length - 1] == '.');

    private static bool IsReverse(ReadOnlySpan<char> key) => InZone(key, "in-addr.arpa") || InZone(key, "ip6.arpa");

    private static ResolveOutcome Authoritative(IRecordIndex index, in Query query, scoped ReadOnlySpan<char> key, bool exact, ref ResponseBuilder response)
    {
        if (!index.Synced)
        {
            response.SetRcode(ResponseCode.ServFail);
            return ResolveOutcome.Answered;
        }
        response.SetFlags(HeaderFlags.Authoritative);
        var node = exact ? index.Find(key) : null;
        if (node is null)
        {
            return exact && PodRecord(index, query, key, ref response) ? ResolveOutcome.Answered : Negative(index, query, ResponseCode.NxDomain, ref response);
        }
        if (node.Cname is { } cname && query.Type != RecordType.Cname)
        {
            return CnameAnswer(index, query, cname, ref response);
        }
        if (query.Type == RecordType.Any)
        {
            foreach (var all in node.All())
            {
                response.WriteSet(all, QuestionName);
            }
            return response.AnswerCount > 0 ? ResolveOutcome.Answered : Negative(index, query, ResponseCode.NoError, ref response);
        }
        if (node.Get(query.Type) is not { } set)
        {
            return Negative(index, query, ResponseCode.NoError, ref response);
        }
        var start = response.WriteSet(set, QuestionName);
        response.BeginAdditional();
        response.WriteAdditional(set, start);
        return ResolveOutcome.Answered;
    }

    // The CNAME answers every type; for A/AAAA its target's records follow, from the index when
    // the target is in the zone, else from the forwarder (Chase).
    private static ResolveOutcome CnameAnswer(IRecordIndex index, in Query query, RecordSet cname, ref ResponseBuilder response)
    {
        var start = response.WriteSet(cname, QuestionName);
        if (query.Type is not (RecordType.A or RecordType.Aaaa))
        {
            return ResolveOutcome.Answered;
        }
        Span<char> buffer = stackalloc char[Limits.MaxNameLength];
        var length = Names.ToKey(cname.RData(0), buffer);
        if (length < 0 || !InZone(buffer[..length], index.Zone))
        {
            return ResolveOutcome.Chase;
        }
        if (index.Find(buffer[..length])?.Get(query.Type) is { } target)
        {
            response.WriteSet(target, TargetOffset(start));
        }
        return ResolveOutcome.Answered;
    }

    /// <summary>Where the target name of the CNAME written at <paramref name="start"/> is (owner pointer, then the fixed part).</summary>
    public static int TargetOffset(int start) => start + 2 + Limits.RecordFixedLength;

    private static ResolveOutcome Negative(IRecordIndex index, in Query query, byte rcode, ref ResponseBuilder response)
    {
        response.SetRcode(rcode);
        response.BeginAuthority();
        // The zone's apex is the question's last labels: point there.
        response.WriteSet(index.Soa, QuestionName + query.NameLength - (index.Zone.Length + 2));
        return ResolveOutcome.Answered;
    }

    // `<a-b-c-d>.<ns>.pod.<zone>`: answered from the name itself (insecure) or when a pod in
    // that namespace has the address (verified). Returns false for NXDOMAIN.
    private static bool PodRecord(IRecordIndex index, in Query query, scoped ReadOnlySpan<char> key, ref ResponseBuilder response)
    {
        if (index.Pods == PodsMode.Disabled)
        {
            return false;
        }
        var suffix = index.Zone.Length + 5;
        if (key.Length <= suffix || !key[^suffix..].StartsWith(".pod.", StringComparison.Ordinal))
        {
            return false;
        }
        var rest = key[..^suffix];
        var dot = rest.IndexOf('.');
        if (dot <= 0 || rest[(dot + 1)..].Contains('.') || !index.HasNamespace(rest[(dot + 1)..]) || ParseDashed(rest[..dot]) is not { } address)
        {
            return false;
        }
        if (index.Pods == PodsMode.Verified && !index.HasPod(rest[(dot + 1)..], address))
        {
            return false;
        }
        var type = address.AddressFamily == AddressFamily.InterNetwork ? RecordType.A : RecordType.Aaaa;
        if (query.Type != type && query.Type != RecordType.Any)
        {
            Negative(index, query, ResponseCode.NoError, ref response);
            return true;
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        response.WriteRecord(QuestionName, type, index.Ttl, bytes[..written]);
        return true;
    }

    /// <summary>`10-244-1-5` or `fd00-10-244-1--5` back to an address; null when it is not one.</summary>
    public static IPAddress? ParseDashed(ReadOnlySpan<char> label)
    {
        if (label.Length > 64)
        {
            return null;
        }
        Span<char> text = stackalloc char[label.Length];
        var dashes = label.Count('-');
        var separator = dashes == 3 ? '.' : ':';
        for (var i = 0; i < label.Length; i++)
        {
            text[i] = label[i] == '-' ? separator : label[i];
        }
        if (!IPAddress.TryParse(text, out var address))
        {
            return null;
        }
        // IPAddress.TryParse takes shorthand such as "10.1" or a bare number; only the full form names a pod.
        return (separator == '.') == (address.AddressFamily == AddressFamily.InterNetwork) ? address : null;
    }
}
