using System.Net;
using System.Net.Sockets;
using Podnet.Agent.Proxy;

namespace Podnet.Agent.Tests;

/// <summary>healthCheckNodePorts served on loopback: kube-proxy's status codes and body, opened and closed as Services come and go.</summary>
public sealed class ServiceHealthServerTests
{
    [Fact]
    public async Task HealthCheckNodePort_Answers200WithTheLocalCount_503WithNone_AndClosesWhenGone()
    {
        var port = FreePort();
        var healthy = true;
        var server = new ServiceHealthServer([IPAddress.Loopback], () => healthy, _ => { });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://127.0.0.1:{port}/";
        try
        {
            server.Sync(new Dictionary<int, (string, int)> { [port] = ("default/web", 2) });
            var ok = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}", await ok.Content.ReadAsStringAsync());
            server.Sync(new Dictionary<int, (string, int)> { [port] = ("default/web", 0) });
            var none = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, none.StatusCode);
            Assert.Contains("\"localEndpoints\": 0", await none.Content.ReadAsStringAsync());
            server.Sync(new Dictionary<int, (string, int)> { [port] = ("default/web", 1) });
            healthy = false;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(url)).StatusCode);
            server.Sync(new Dictionary<int, (string, int)>());
            await Assert.ThrowsAsync<HttpRequestException>(() => new HttpClient().GetAsync(url));
        }
        finally
        {
            server.StopAll();
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
