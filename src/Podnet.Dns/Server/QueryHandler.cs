using System.Buffers;
using System.Diagnostics;
using Podnet.Dns.Forwarding;
using Podnet.Dns.Resolution;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Server;

/// <summary>
/// One query in, one response out, for both transports. <see cref="Answer"/> is the synchronous
/// path every query takes first: parse, resolve from the index, fit, all into the caller's
/// buffers. Only a name that needs an upstream (or an ExternalName target outside the zone)
/// takes <see cref="AnswerAsync"/>.
/// </summary>
public sealed class QueryHandler(IndexHolder index, Forwarder? forwarder, DnsCounters counters)
{
    /// <summary>Size of the buffers responses are built in: a whole TCP message, plus room for OPT.</summary>
    public const int ResponseBufferLength = Limits.MaxMessageLength + 64;

    public DnsCounters Counters => counters;

    /// <summary>
    /// Answers from the index. Returns the response's length in <paramref name="response"/>, 0 when
    /// the packet is dropped, or -1 when the query must go through <see cref="AnswerAsync"/>.
    /// </summary>
    public int Answer(ReadOnlySpan<byte> packet, Span<byte> response, Span<byte> name, bool udp, long started)
    {
        var status = QueryParser.Parse(packet, name, out var query);
        if (status == ParseStatus.Drop)
        {
            Interlocked.Increment(ref counters.Dropped);
            return 0;
        }
        var builder = new ResponseBuilder(response);
        if (status == ParseStatus.FormErr)
        {
            // Nothing after the header can be trusted: no question, no OPT.
            query.NameLength = 0;
            builder.Start(query, name);
            builder.SetRcode(ResponseCode.FormErr);
            counters.Record(0, ResponseCode.FormErr, started);
            return builder.Finish(Limits.ClassicUdpSize, edns: false);
        }
        var outcome = Resolver.Resolve(index.Current, query, name, ref builder);
        if (outcome == ResolveOutcome.Forward && forwarder is null)
        {
            // No upstream configured: SERVFAIL at once, never a query to an address not given.
            builder.Start(query, name);
            builder.SetRcode(ResponseCode.ServFail);
        }
        else if (outcome != ResolveOutcome.Answered && forwarder is not null)
        {
            return -1;
        }
        var length = builder.Finish(Limit(query, udp), query.HasEdns);
        counters.Record(query.Type, builder.Rcode, started);
        return length;
    }

    /// <summary>Answers a query that needs the forwarder and hands the response to <paramref name="send"/>.</summary>
    public async Task AnswerAsync(byte[] packet, bool udp, long started, Func<ReadOnlyMemory<byte>, ValueTask> send, CancellationToken cancellationToken)
    {
        var name = new byte[Limits.MaxNameLength];
        var response = ArrayPool<byte>.Shared.Rent(ResponseBufferLength);
        try
        {
            var (query, outcome, target) = Prepare(packet, name, response);
            var reply = outcome switch
            {
                ResolveOutcome.Forward => await forwarder!.ResolveAsync(name[..query.NameLength], query.Type, query.Class, cancellationToken).ConfigureAwait(false),
                ResolveOutcome.Chase => await forwarder!.ResolveAsync(target!, query.Type, RecordClass.In, cancellationToken).ConfigureAwait(false),
                _ => null,
            };
            var (length, rcode) = Complete(packet, name, response, udp, outcome, reply);
            await send(response.AsMemory(0, length)).ConfigureAwait(false);
            counters.Record(query.Type, rcode, started);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(response);
        }
    }

    private static int Limit(in Query query, bool udp) => udp ? query.UdpLimit : Limits.MaxMessageLength;

    // The first pass: what the query needs, and for a chase the CNAME's target.
    private (Query Query, ResolveOutcome Outcome, byte[]? Target) Prepare(byte[] packet, byte[] name, byte[] response)
    {
        QueryParser.Parse(packet, name, out var query);
        var builder = new ResponseBuilder(response);
        var outcome = Resolver.Resolve(index.Current, query, name, ref builder);
        byte[]? target = null;
        if (outcome == ResolveOutcome.Chase)
        {
            var at = Resolver.TargetOffset(Limits.HeaderLength + query.NameLength + 4);
            var buffer = new byte[Limits.MaxNameLength];
            Names.Read(response, at, buffer, out var length);
            target = buffer[..length];
        }
        return (query, outcome, target);
    }

    // The second pass, after the upstream: the relayed reply, the CNAME and its target's
    // records, or SERVFAIL when no upstream answered a forwarded name.
    private (int Length, int Rcode) Complete(byte[] packet, byte[] name, byte[] response, bool udp, ResolveOutcome first, byte[]? reply)
    {
        QueryParser.Parse(packet, name, out var query);
        if (first == ResolveOutcome.Forward && reply is not null)
        {
            return (Relay.Compose(reply, query, name, response, Limit(query, udp)), HeaderFlags.Rcode((ushort)((reply[2] << 8) | reply[3])));
        }
        var builder = new ResponseBuilder(response);
        var outcome = Resolver.Resolve(index.Current, query, name, ref builder);
        if (outcome == ResolveOutcome.Chase && reply is not null)
        {
            var records = ArrayPool<byte>.Shared.Rent(Limits.MaxMessageLength);
            var length = Relay.AnswerRecords(reply, records, out var count);
            builder.WriteRaw(records.AsSpan(0, length), count);
            ArrayPool<byte>.Shared.Return(records);
        }
        else if (outcome == ResolveOutcome.Forward)
        {
            builder.Start(query, name);
            builder.SetRcode(ResponseCode.ServFail);
        }
        return (builder.Finish(Limit(query, udp), query.HasEdns), builder.Rcode);
    }

    public static long Now() => Stopwatch.GetTimestamp();
}
