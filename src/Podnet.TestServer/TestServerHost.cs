using System.Net;
using System.Net.Sockets;
using Podnet.Kernel;

namespace Podnet.TestServer;

/// <summary>What one pod's built-in server listens on.</summary>
/// <param name="HostnameOnly">Answer the pod's name to every request, as agnhost serve-hostname does, instead of netexec's endpoints.</param>
public sealed record TestServerSpec(string PodName, IReadOnlyList<int> HttpPorts, IReadOnlyList<int> UdpPorts, bool HostnameOnly = false);

/// <summary>
/// Serves the built-in test server for any number of pods from one process. Each pod's
/// sockets are opened inside that pod's namespace (a socket keeps its namespace), then served
/// by async loops on the thread pool, so a pod costs a few sockets and tasks, not a process.
/// </summary>
public sealed class TestServerHost : IAsyncDisposable
{
    private readonly Dictionary<string, PodSockets> _pods = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public TestServerHost(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Starts serving <paramref name="spec"/> inside <paramref name="netns"/> (null: this process's namespace) under <paramref name="key"/>.</summary>
    public void Add(string key, TestServerSpec spec, Netns? netns)
    {
        var sockets = netns is null ? Open(spec) : netns.Run(() => Open(spec));
        var pod = new PodSockets(spec, sockets);
        lock (_lock)
        {
            if (!_pods.TryAdd(key, pod))
            {
                pod.Close();
                throw new InvalidOperationException($"the test server already serves {key}");
            }
        }
        foreach (var socket in sockets)
        {
            pod.Tasks.Add(socket.SocketType == SocketType.Stream
                ? HttpLoop.AcceptAsync(socket, spec, _time, pod.Stop.Token)
                : UdpLoopAsync(socket, spec, pod.Stop.Token));
        }
    }

    /// <summary>Stops serving <paramref name="key"/>; false when it was not served.</summary>
    public async Task<bool> RemoveAsync(string key)
    {
        PodSockets? pod;
        lock (_lock)
        {
            if (!_pods.Remove(key, out pod))
            {
                return false;
            }
        }
        await pod.StopAsync();
        return true;
    }

    public IReadOnlyCollection<string> Keys
    {
        get
        {
            lock (_lock)
            {
                return _pods.Keys.ToArray();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var key in Keys)
        {
            await RemoveAsync(key);
        }
    }

    private static List<Socket> Open(TestServerSpec spec)
    {
        var sockets = new List<Socket>();
        try
        {
            foreach (var port in spec.HttpPorts)
            {
                var socket = Bind(SocketType.Stream, ProtocolType.Tcp, port);
                socket.Listen(512);
                sockets.Add(socket);
            }
            foreach (var port in spec.UdpPorts)
            {
                sockets.Add(Bind(SocketType.Dgram, ProtocolType.Udp, port));
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }
        return sockets;
    }

    /// <summary>A dual-stack socket on every address, or IPv4 only where IPv6 is off.</summary>
    private static Socket Bind(SocketType type, ProtocolType protocol, int port)
    {
        try
        {
            var socket = new Socket(AddressFamily.InterNetworkV6, type, protocol) { DualMode = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return socket;
        }
    }

    private static async Task UdpLoopAsync(Socket socket, TestServerSpec spec, CancellationToken stop)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var client = (IPEndPoint)received.RemoteEndPoint;
            var payload = System.Text.Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes);
            var answer = System.Text.Encoding.UTF8.GetBytes(spec.HostnameOnly ? spec.PodName : NetexecProtocol.Udp(payload, spec.PodName, client));
            try
            {
                await socket.SendToAsync(answer, SocketFlags.None, client, stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    private sealed class PodSockets(TestServerSpec spec, List<Socket> sockets)
    {
        public TestServerSpec Spec { get; } = spec;

        public CancellationTokenSource Stop { get; } = new();

        public List<Task> Tasks { get; } = [];

        public void Close() => sockets.ForEach(s => s.Dispose());

        public async Task StopAsync()
        {
            await Stop.CancelAsync();
            Close();
            await Task.WhenAll(Tasks).ConfigureAwait(false);
            Stop.Dispose();
        }
    }
}
