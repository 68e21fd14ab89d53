using System.Buffers.Binary;
using System.Net.Sockets;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Server;

/// <summary>DNS over TCP (RFC 7766): two-octet length prefix, queries answered in order, idle connections closed.</summary>
public sealed partial class DnsServer
{
    private int _connections;

    private async Task AcceptTcpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Interlocked.Increment(ref _handler.Counters.TcpConnections);
            if (Interlocked.Increment(ref _connections) > _options.MaxTcpConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }
            _ = ServeTcpAsync(client);
        }
    }

    private async Task ServeTcpAsync(Socket client)
    {
        var packet = new byte[Limits.MaxMessageLength];
        var response = new byte[QueryHandler.ResponseBufferLength + 2];
        var name = new byte[Limits.MaxNameLength];
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            while (true)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                idle.CancelAfter(_options.TcpIdleTimeout);
                await stream.ReadExactlyAsync(packet.AsMemory(0, 2), idle.Token).ConfigureAwait(false);
                var length = BinaryPrimitives.ReadUInt16BigEndian(packet);
                await stream.ReadExactlyAsync(packet.AsMemory(0, length), idle.Token).ConfigureAwait(false);
                var started = QueryHandler.Now();
                var answered = _handler.Answer(packet.AsSpan(0, length), response.AsSpan(2), name, udp: false, started);
                if (answered == 0)
                {
                    return;
                }
                if (answered > 0)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(response, (ushort)answered);
                    await stream.WriteAsync(response.AsMemory(0, answered + 2), _stop.Token).ConfigureAwait(false);
                    continue;
                }
                await _handler.AnswerAsync(packet[..length], udp: false, started, async message =>
                {
                    var framed = new byte[message.Length + 2];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
                    message.CopyTo(framed.AsMemory(2));
                    await stream.WriteAsync(framed, _stop.Token).ConfigureAwait(false);
                }, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, sent half a message, or idled out: the connection ends.
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"TCP connection failed: {e}");
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
            client.Dispose();
        }
    }
}
