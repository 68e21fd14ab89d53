using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Podnet.TestServer;

namespace Podnet.Agent.Proxy;

/// <summary>
/// kube-proxy's health port, 10256 on the node's addresses: <c>/healthz</c> and <c>/livez</c>
/// answer 200 with kube-proxy's JSON once the first sync has committed and while the last one
/// did not fail, 503 otherwise; <c>/metrics</c> is Prometheus text.
/// </summary>
public sealed class ProxyHealthServer(ServiceProxy proxy, TimeProvider time)
{
    public const int Port = 10256;

    public async Task RunAsync(IEnumerable<IPAddress> addresses, int port, CancellationToken stop)
    {
        var listeners = new List<Socket>();
        try
        {
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(64);
                listeners.Add(socket);
            }
            await Task.WhenAll(listeners.Select(l => HttpLoop.AcceptAsync(l, (target, _) => Respond(target), stop)));
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    public (int Status, string Body) Respond(string target)
    {
        var path = target.Split('?')[0];
        var metrics = proxy.Metrics;
        switch (path)
        {
            case "/healthz":
            case "/livez":
                var last = metrics.LastSync;
                var healthy = proxy.Healthy;
                var now = time.GetUtcNow();
                var body = string.Create(CultureInfo.InvariantCulture,
                    $"{{\"lastUpdated\": \"{(last ?? DateTimeOffset.UnixEpoch).UtcDateTime:yyyy-MM-dd HH:mm:ss.fffffff} +0000 UTC\",\"currentTime\": \"{now.UtcDateTime:yyyy-MM-dd HH:mm:ss.fffffff} +0000 UTC\", \"nodeEligible\": true}}\n");
                return (healthy ? 200 : 503, body);
            case "/metrics":
                return (200, metrics.Write(proxy.Programmed()));
            default:
                return (404, "404 page not found\n");
        }
    }
}
