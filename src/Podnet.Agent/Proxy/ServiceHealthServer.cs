using System.Net;
using System.Net.Sockets;
using Podnet.TestServer;
using Podnet.Proxy;

namespace Podnet.Agent.Proxy;

/// <summary>
/// The healthCheckNodePorts of this node (kube-proxy's service health server): one listener per
/// port on each node address, opened when a LoadBalancer Service with externalTrafficPolicy
/// Local appears and closed when it goes; each answers with the local ready endpoint count of
/// the last committed sync (<see cref="HealthCheckBody"/>). Thread-safe: the proxy's loop calls
/// <see cref="Sync"/>, the listeners read.
/// </summary>
public sealed class ServiceHealthServer(IReadOnlyList<IPAddress> addresses, Func<bool> proxyHealthy, Action<string> log)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Listener> _ports = [];

    /// <summary>The wanted ports: for each, the Service ("namespace/name") and its local ready endpoints.</summary>
    public void Sync(IReadOnlyDictionary<int, (string Key, int LocalEndpoints)> wanted)
    {
        lock (_lock)
        {
            foreach (var port in _ports.Keys.Where(p => !wanted.ContainsKey(p)).ToArray())
            {
                _ports[port].Stop();
                _ports.Remove(port);
            }
            foreach (var (port, state) in wanted)
            {
                if (_ports.TryGetValue(port, out var listener))
                {
                    listener.State = state;
                    continue;
                }
                try
                {
                    _ports[port] = Listener.Start(addresses, port, state, proxyHealthy);
                }
                catch (SocketException e)
                {
                    log($"healthCheckNodePort {port} of {state.Key} not served: {e.Message}");
                }
            }
        }
    }

    public void StopAll() => Sync(new Dictionary<int, (string, int)>());

    private sealed class Listener
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _sockets = [];

        public (string Key, int LocalEndpoints) State { get; set; }

        public static Listener Start(IReadOnlyList<IPAddress> addresses, int port, (string, int) state, Func<bool> healthy)
        {
            var listener = new Listener { State = state };
            try
            {
                foreach (var address in addresses)
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    listener._sockets.Add(socket);
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    socket.Bind(new IPEndPoint(address, port));
                    socket.Listen(64);
                }
            }
            catch
            {
                listener.Stop();
                throw;
            }
            foreach (var socket in listener._sockets)
            {
                _ = HttpLoop.AcceptAsync(socket, (target, _) =>
                {
                    var (key, count) = listener.State;
                    var slash = key.IndexOf('/', StringComparison.Ordinal);
                    return HealthCheckBody.Answer(key[..slash], key[(slash + 1)..], count, healthy());
                }, listener._stop.Token);
            }
            return listener;
        }

        public void Stop()
        {
            _stop.Cancel();
            _sockets.ForEach(s => s.Dispose());
        }
    }
}
