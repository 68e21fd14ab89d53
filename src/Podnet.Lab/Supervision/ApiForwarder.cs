using System.Net;
using System.Net.Sockets;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Lab.Supervision;

/// <summary>
/// Brings an API server that runs outside the lab (`lab up --kubeconfig`) into the lab's node
/// namespaces at the very address and port its kubeconfig names, so that the kubeconfig, and
/// the TLS name check it implies, work unchanged inside the lab. In each namespace it listens
/// on that address (for a non-loopback address, first put on the namespace's `lo` as a host
/// address, which only shadows that one address for that namespace) and relays every
/// connection, byte for byte, to the real server from the namespace this process runs in.
/// </summary>
public sealed class ApiForwarder : IDisposable
{
    private readonly List<Socket> _listeners = [];
    private readonly IPEndPoint _target;

    // The namespace this process runs in, where the real server is reached. A socket belongs to
    // the namespace of the thread that makes it, and a relay may run on any thread, including
    // the runtime's socket-event thread, which is started by the first listener and so inside a
    // node's namespace: there, connecting to the target reached this forwarder's own listener,
    // again and again (seen once the lab's daemons ran without tiered compilation).
    private readonly Netns _home = Netns.OpenCurrent();

    private ApiForwarder(IPEndPoint target) => _target = target;

    /// <summary>The address and port a kubeconfig's server URL names, resolved here.</summary>
    public static IPEndPoint ResolveServer(Uri server)
    {
        var port = server.IsDefaultPort ? 443 : server.Port;
        if (IPAddress.TryParse(server.IdnHost, out var address))
        {
            return new IPEndPoint(address, port);
        }
        var addresses = Dns.GetHostAddresses(server.IdnHost);
        return addresses.Length > 0
            ? new IPEndPoint(addresses[0], port)
            : throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Listens at <paramref name="target"/> inside each of <paramref name="namespaces"/>.</summary>
    public static ApiForwarder Listen(IPEndPoint target, IEnumerable<string> namespaces)
    {
        var forwarder = new ApiForwarder(target);
        try
        {
            foreach (var name in namespaces)
            {
                using var netns = Netns.Open(name);
                if (!IPAddress.IsLoopback(target.Address))
                {
                    using var rt = RtNetlink.Open(netns);
                    var bits = target.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                    rt.EnsureAddress("lo", new AddressPrefix(target.Address, bits));
                }
                forwarder._listeners.Add(netns.Run(() =>
                {
                    var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    socket.Bind(target);
                    socket.Listen(128);
                    return socket;
                }));
            }
            return forwarder;
        }
        catch
        {
            forwarder.Dispose();
            throw;
        }
    }

    /// <summary>Accepts and relays on every listener until <paramref name="stop"/> fires.</summary>
    public Task RunAsync(Action<string> log, CancellationToken stop) =>
        Task.WhenAll(_listeners.Select(l => AcceptAsync(l, log, stop)));

    private async Task AcceptAsync(Socket listener, Action<string> log, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e)
            {
                log($"accept: {e.Message}");
                continue;
            }
            _ = RelayAsync(client, log, stop);
        }
    }

    private async Task RelayAsync(Socket client, Action<string> log, CancellationToken stop)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using (client)
        using (var server = _home.Run(() => new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp)))
        {
            try
            {
                client.NoDelay = true;
                server.NoDelay = true;
                await server.ConnectAsync(_target, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                if (!stop.IsCancellationRequested)
                {
                    log($"cannot reach the API server at {_target}: {e.Message}");
                }
                return;
            }
            await Task.WhenAll(PipeAsync(client, server, failed), PipeAsync(server, client, failed)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Copies one direction. At the end of the stream the other side is shut down for writing,
    /// so a half-close passes through; on an error both directions stop.
    /// </summary>
    private static async Task PipeAsync(Socket from, Socket to, CancellationTokenSource failed)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, failed.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, failed.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        _home.Dispose();
    }
}
