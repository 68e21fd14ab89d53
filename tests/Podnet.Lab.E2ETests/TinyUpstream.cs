using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A tiny upstream resolver for tests: a UDP socket made inside a lab namespace (it keeps that
/// namespace) that answers every A question with one address, anything else with an empty
/// NOERROR, and remembers the names asked. Written here so the test depends on no DNS library.
/// </summary>
public sealed class TinyUpstream : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IPAddress _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private TinyUpstream(Socket socket, IPAddress answer)
    {
        _socket = socket;
        _answer = answer;
        _loop = Task.Run(ServeAsync);
    }

    public ConcurrentBag<string> Asked { get; } = [];

    /// <summary>Binds <paramref name="at"/> inside <paramref name="netns"/> (which it disposes) and starts answering.</summary>
    public static TinyUpstream Start(Netns netns, IPEndPoint at, IPAddress answer)
    {
        using (netns)
        {
            var socket = netns.Run(() =>
            {
                var s = new Socket(at.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                s.Bind(at);
                return s;
            });
            return new TinyUpstream(socket, answer);
        }
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[512];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            if (Answer(buffer.AsSpan(0, received.ReceivedBytes)) is { } reply)
            {
                await _socket.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint);
            }
        }
    }

    /// <summary>The reply to one query (header, one question without compression), or null to drop it.</summary>
    private byte[]? Answer(ReadOnlySpan<byte> query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query[4..]) != 1)
        {
            return null;
        }
        var name = new StringBuilder();
        var at = 12;
        while (at < query.Length && query[at] != 0)
        {
            var length = query[at];
            if (length > 63 || at + 1 + length >= query.Length)
            {
                return null;
            }
            name.Append(Encoding.ASCII.GetString(query.Slice(at + 1, length))).Append('.');
            at += 1 + length;
        }
        if (at + 5 > query.Length)
        {
            return null;
        }
        var questionEnd = at + 5;
        Asked.Add(name.ToString().ToLowerInvariant());
        var isA = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 1)..]) == 1;
        var reply = new List<byte>(query[..questionEnd].ToArray());
        reply[2] = (byte)(0x80 | (query[2] & 0x01)); // QR, RD as asked
        reply[3] = 0x80; // RA, NOERROR
        reply[6] = 0;
        reply[7] = (byte)(isA ? 1 : 0); // ANCOUNT
        for (var i = 8; i < 12; i++)
        {
            reply[i] = 0; // no authority, no additional (an OPT of the query is not echoed)
        }
        if (isA)
        {
            reply.AddRange([0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            reply.AddRange(_answer.GetAddressBytes());
        }
        return reply.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        _stop.Dispose();
    }
}
