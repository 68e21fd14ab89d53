using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Forwarding;

/// <summary>
/// A tiny authoritative server on 127.0.0.1 (UDP and TCP on one port) standing for an upstream:
/// names from <see cref="Records"/>, NXDOMAIN with an SOA for the rest, `big.example` truncated
/// over UDP; it counts queries and can be told to stay silent.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _queries;

    public FakeUpstream(bool silent = false)
    {
        Silent = silent;
        (_udp, _tcp) = BindPair();
        EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
        _serving = Task.WhenAll(ServeUdpAsync(), ServeTcpAsync());
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// A UDP socket and a TCP listener on one loopback port: the kernel picks a free UDP port,
    /// which another process may hold for TCP, so a taken pair is let go and another tried.
    /// </summary>
    private static (Socket Udp, TcpListener Tcp) BindPair()
    {
        for (var attempt = 0; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var tcp = new TcpListener((IPEndPoint)udp.LocalEndPoint!);
            try
            {
                tcp.Start();
                return (udp, tcp);
            }
            catch (SocketException) when (attempt < 50)
            {
                udp.Dispose();
            }
        }
    }

    public bool Silent { get; }

    public int Queries => Volatile.Read(ref _queries);

    public Dictionary<string, (ushort Type, string Data)[]> Records { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["example.com"] = [(RecordType.A, "192.0.2.1"), (RecordType.Aaaa, "2001:db8::1")],
        ["big.example"] = [.. Enumerable.Range(1, 40).Select(i => (RecordType.A, $"192.0.2.{i}"))],
    };

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                Interlocked.Increment(ref _queries);
                if (!Silent && Answer(buffer.AsSpan(0, received.ReceivedBytes), udp: true) is { } answer)
                {
                    await _udp.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ServeTcpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var client = await _tcp.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                var prefix = new byte[2];
                await stream.ReadExactlyAsync(prefix, _stop.Token);
                var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                await stream.ReadExactlyAsync(query, _stop.Token);
                Interlocked.Increment(ref _queries);
                if (Answer(query, udp: false) is { } answer)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)answer.Length);
                    await stream.WriteAsync(prefix, _stop.Token);
                    await stream.WriteAsync(answer, _stop.Token);
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private byte[]? Answer(ReadOnlySpan<byte> query, bool udp)
    {
        var name = new byte[255];
        if (QueryParser.Parse(query, name, out var parsed) != ParseStatus.Ok)
        {
            return null;
        }
        var text = Names.ToText(name.AsSpan(0, parsed.NameLength)).TrimEnd('.');
        var message = new List<byte>(query[..(12 + parsed.NameLength + 4)].ToArray());
        ushort flags = 0x8000 | HeaderFlags.RecursionDesired | HeaderFlags.RecursionAvailable;
        ushort answers = 0, authority = 0;
        if (!Records.TryGetValue(text, out var records))
        {
            flags |= ResponseCode.NxDomain;
            // example. SOA . . 1 2 3 4 45, owner the question's last label.
            message.AddRange([7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 0, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 45]);
            authority = 1;
        }
        else if (udp && text == "big.example")
        {
            flags |= HeaderFlags.Truncated;
        }
        else
        {
            foreach (var (type, data) in records.Where(r => r.Type == parsed.Type))
            {
                var rdata = IPAddress.Parse(data).GetAddressBytes();
                message.AddRange([0xC0, 12, 0, (byte)type, 0, 1, 0, 0, 0, 60, 0, (byte)rdata.Length]);
                message.AddRange(rdata);
                answers++;
            }
        }
        var additional = (ushort)0;
        if (parsed.HasEdns)
        {
            message.AddRange([0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]);
            additional = 1;
        }
        var bytes = message.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), answers);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), authority);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), additional);
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Stop();
        await _serving;
    }
}
