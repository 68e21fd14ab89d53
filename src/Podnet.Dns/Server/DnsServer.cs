using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Server;

public sealed record DnsServerOptions
{
    /// <summary>Address and port for both UDP and TCP; port 0 takes a free one (tests).</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Any, 53);

    /// <summary>UDP sockets, each with its own thread, sharing the port through SO_REUSEPORT.</summary>
    public int UdpWorkers { get; init; } = Environment.ProcessorCount;

    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxTcpConnections { get; init; } = 256;

    public Action<string>? Log { get; init; }
}

/// <summary>
/// The DNS listeners: UDP workers that each block on their own socket and answer in place, and
/// an async TCP listener (length-prefixed messages, several per connection, idle timeout).
/// </summary>
/// <remarks>
/// Why blocking sockets on dedicated threads: an answer from the index costs a few hundred
/// nanoseconds, while a receive and a send cost microseconds, so the loop is kept to exactly
/// one recvfrom and one sendto per query, with a reused buffer and SocketAddress (no
/// allocation). Several sockets on one port (SO_REUSEPORT) let the kernel spread queries over
/// cores without a shared queue. Forwarded queries leave the loop for the thread pool.
/// </remarks>
public sealed partial class DnsServer : IAsyncDisposable
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    private readonly DnsServerOptions _options;
    private readonly QueryHandler _handler;
    private readonly List<Socket> _udp = [];
    private readonly List<Thread> _threads = [];
    private readonly CancellationTokenSource _stop = new();
    private Socket _tcp = null!;
    private Task _accepting = Task.CompletedTask;

    private DnsServer(DnsServerOptions options, QueryHandler handler)
    {
        _options = options;
        _handler = handler;
    }

    /// <summary>Where the server listens (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; private set; } = null!;

    public static DnsServer Start(DnsServerOptions options, QueryHandler handler)
    {
        var server = new DnsServer(options, handler);
        try
        {
            server.Bind();
        }
        catch
        {
            server.CloseSockets();
            throw;
        }
        foreach (var socket in server._udp)
        {
            var thread = new Thread(() => server.ServeUdp(socket)) { IsBackground = true, Name = "dns-udp" };
            server._threads.Add(thread);
            thread.Start();
        }
        server._accepting = server.AcceptTcpAsync();
        return server;
    }

    private void Bind()
    {
        var workers = OperatingSystem.IsLinux() ? Math.Max(1, _options.UdpWorkers) : 1;
        // With port 0, the UDP port the kernel picks may be taken for TCP: try a few.
        for (var attempt = 0; ; attempt++)
        {
            var first = NewSocket(SocketType.Dgram, ProtocolType.Udp, workers > 1);
            _udp.Add(first);
            first.Bind(_options.Listen);
            LocalEndPoint = (IPEndPoint)first.LocalEndPoint!;
            _tcp = NewSocket(SocketType.Stream, ProtocolType.Tcp, reusePort: false);
            try
            {
                _tcp.Bind(LocalEndPoint);
                break;
            }
            catch (SocketException) when (_options.Listen.Port == 0 && attempt < 10)
            {
                CloseSockets();
            }
        }
        _tcp.Listen(512);
        for (var i = 1; i < workers; i++)
        {
            var socket = NewSocket(SocketType.Dgram, ProtocolType.Udp, reusePort: true);
            _udp.Add(socket);
            socket.Bind(LocalEndPoint);
        }
    }

    private Socket NewSocket(SocketType type, ProtocolType protocol, bool reusePort)
    {
        var socket = new Socket(_options.Listen.AddressFamily, type, protocol);
        if (_options.Listen.Address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }
        if (type == SocketType.Stream)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }
        if (reusePort)
        {
            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        }
        return socket;
    }

    private void ServeUdp(Socket socket)
    {
        var packet = new byte[Limits.MaxMessageLength];
        var response = new byte[QueryHandler.ResponseBufferLength];
        var name = new byte[Limits.MaxNameLength];
        var address = new SocketAddress(socket.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(packet, SocketFlags.None, address);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // After close: stop. Otherwise (an ICMP error reported on the socket): go on.
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            var started = QueryHandler.Now();
            try
            {
                var length = _handler.Answer(packet.AsSpan(0, received), response, name, udp: true, started);
                if (length > 0)
                {
                    socket.SendTo(response.AsSpan(0, length), SocketFlags.None, address);
                }
                else if (length < 0)
                {
                    ForwardUdp(socket, packet.AsSpan(0, received).ToArray(), address, started);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
            catch (Exception e)
            {
                _options.Log?.Invoke($"answering a UDP query failed: {e}");
            }
        }
    }

    private void ForwardUdp(Socket socket, byte[] packet, SocketAddress from, long started)
    {
        var to = new SocketAddress(from.Family, from.Size);
        from.Buffer.CopyTo(to.Buffer);
        _ = Task.Run(async () =>
        {
            try
            {
                await _handler.AnswerAsync(packet, udp: true, started, async response => await socket.SendToAsync(response, SocketFlags.None, to, _stop.Token).ConfigureAwait(false), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                _options.Log?.Invoke($"forwarding a UDP query failed: {e.Message}");
            }
            catch (Exception)
            {
                // Stopping.
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        CloseSockets();
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The listener's end is expected.
        }
        _stop.Dispose();
    }

    private void CloseSockets()
    {
        foreach (var socket in _udp)
        {
            socket.Dispose();
        }
        _udp.Clear();
        _tcp?.Dispose();
    }
}
