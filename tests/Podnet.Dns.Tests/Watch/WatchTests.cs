using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.ApiServer;
using Podnet.Controllers.Informers;
using Podnet.Dns.Index;
using Podnet.Dns.Server;
using Podnet.Dns.Watch;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Watch;

/// <summary>The project's own API server on 127.0.0.1, and `podnet dns` (DnsHost) watching it.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-dns-").FullName;

    public ApiServerHost Api { get; private set; } = null!;

    public Kubernetes Client { get; private set; } = null!;

    public DnsHost Dns { get; private set; } = null!;

    public HttpPorts Ports { get; } = new(FreePort(), FreePort(), FreePort());

    public async Task InitializeAsync()
    {
        Api = await ApiServerHost.StartAsync(new ApiServerOptions { StateDirectory = _directory, Port = 0, BindAddresses = [IPAddress.Loopback] });
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Api.KubeconfigPath));
        Dns = await DnsHost.StartAsync(
            new DnsHostOptions { Server = new DnsServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UdpWorkers = 1 }, Http = Ports },
            WatchSources.FromClient(Client, PodsMode.Insecure),
            CancellationToken.None);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await Dns.DisposeAsync();
        Client.Dispose();
        await Api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

public class WatchTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private Task<Decoded> AskAsync(string name, ushort type) => DnsMessages.AskAsync(fixture.Dns.EndPoint, DnsMessages.Query(name, type));

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!fixture.Dns.Ready)
        {
            Assert.True(DateTime.UtcNow < deadline, "no first sync within 20 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Asks every 10 ms until <paramref name="done"/> holds; returns how long that took.</summary>
    private async Task<TimeSpan> UntilAsync(string name, ushort type, Func<Decoded, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (!done(await AskAsync(name, type)))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{name} did not change within 5 s");
            await Task.Delay(10);
        }
        return watch.Elapsed;
    }

    [Fact]
    public async Task FirstSync_ServesTheKubernetesService_AndReportsReady()
    {
        await WaitReadyAsync();
        var response = await AskAsync("kubernetes.default.svc.cluster.local", RecordType.A);
        Assert.Equal(["kubernetes.default.svc.cluster.local. 30 A 10.96.0.1"], response.Answers);
        Assert.Equal(ResponseCode.NoError, (await AskAsync("kube-system.svc.cluster.local", RecordType.A)).Rcode);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{fixture.Ports.Ready}/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{fixture.Ports.Health}/health")).StatusCode);
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{fixture.Ports.Metrics}/metrics");
        Assert.Contains("podnet_dns_requests_total{type=\"A\",rcode=\"NOERROR\"}", metrics);
        Assert.Contains("podnet_dns_request_duration_seconds_bucket{le=\"+Inf\"}", metrics);
        Assert.Contains("podnet_dns_cache_hits_total 0", metrics);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{fixture.Ports.Health}/metrics")).StatusCode);
    }

    [Fact]
    public async Task NewService_IsResolvableWithinOneSecond_AndGoneWithinOneSecondOfItsDeletion()
    {
        await WaitReadyAsync();
        var created = await fixture.Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = "fresh" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80 }] } },
            "default");
        var ip = created.Spec.ClusterIP;
        var took = await UntilAsync("fresh.default.svc.cluster.local", RecordType.A, r => r.Answers is [var a] && a.EndsWith($" A {ip}"));
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");
        var srv = await AskAsync("_http._tcp.fresh.default.svc.cluster.local", RecordType.Srv);
        Assert.Equal(["_http._tcp.fresh.default.svc.cluster.local. 30 SRV 0 100 80 fresh.default.svc.cluster.local."], srv.Answers);
        await fixture.Client.CoreV1.DeleteNamespacedServiceAsync("fresh", "default");
        took = await UntilAsync("fresh.default.svc.cluster.local", RecordType.A, r => r.Rcode == ResponseCode.NxDomain);
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");
    }

    [Fact]
    public async Task HeadlessService_FollowsItsEndpointSlice()
    {
        await WaitReadyAsync();
        await fixture.Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = "stateful" }, Spec = new V1ServiceSpec { ClusterIP = "None", Ports = [new V1ServicePort { Name = "pg", Port = 5432 }] } },
            "default");
        V1Endpoint Endpoint(string ip, string hostname, bool ready) => new() { Addresses = [ip], Hostname = hostname, Conditions = new V1EndpointConditions { Ready = ready } };
        var slice = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "stateful-1", Labels = new Dictionary<string, string> { [Podnet.Dns.Records.Projection.ServiceNameLabel] = "stateful" } },
            AddressType = "IPv4",
            Ports = [new Discoveryv1EndpointPort { Name = "pg", Port = 5432, Protocol = "TCP" }],
            Endpoints = [Endpoint("10.244.1.10", "pg-0", true), Endpoint("10.244.2.10", "pg-1", true)],
        };
        var stored = await fixture.Client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(slice, "default");
        var took = await UntilAsync("stateful.default.svc.cluster.local", RecordType.A, r => r.Answers.Length == 2);
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");
        Assert.Equal(["pg-1.stateful.default.svc.cluster.local. 30 A 10.244.2.10"], (await AskAsync("pg-1.stateful.default.svc.cluster.local", RecordType.A)).Answers);
        Assert.Equal(2, (await AskAsync("_pg._tcp.stateful.default.svc.cluster.local", RecordType.Srv)).Answers.Length);
        Assert.Equal(["10.2.244.10.in-addr.arpa. 30 PTR pg-1.stateful.default.svc.cluster.local."], (await AskAsync("10.2.244.10.in-addr.arpa", RecordType.Ptr)).Answers);
        stored.Endpoints[1].Conditions.Ready = false;
        await fixture.Client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(stored, "stateful-1", "default");
        took = await UntilAsync("stateful.default.svc.cluster.local", RecordType.A, r => r.Answers.Length == 1);
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took}");
        Assert.Equal(ResponseCode.NxDomain, (await AskAsync("pg-1.stateful.default.svc.cluster.local", RecordType.A)).Rcode);
    }
}

/// <summary>Before the first list completes: SERVFAIL for the zone and /ready 503.</summary>
public class BeforeSyncTests
{
    private sealed class NeverLists<T> : IListWatch<T>
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new OperationCanceledException();
        }

        public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
    }

    [Fact]
    public async Task NotSynced_ZoneIsServFail_AndNotReady()
    {
        var ports = new HttpPorts(ApiFixture.FreePort(), ApiFixture.FreePort(), ApiFixture.FreePort());
        await using var dns = await DnsHost.StartAsync(
            new DnsHostOptions { Server = new DnsServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UdpWorkers = 1 }, Http = ports },
            new WatchSources(new NeverLists<V1Service>(), new NeverLists<V1EndpointSlice>(), new NeverLists<V1Namespace>(), null),
            CancellationToken.None);
        Assert.Equal(ResponseCode.ServFail, (await DnsMessages.AskAsync(dns.EndPoint, DnsMessages.Query("kubernetes.default.svc.cluster.local", RecordType.A))).Rcode);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync($"http://127.0.0.1:{ports.Ready}/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{ports.Health}/health")).StatusCode);
    }

    /// <summary>Lists what it is given once <see cref="Release"/> is called; its watch stays open with no events.</summary>
    private sealed class GatedList<T>(params T[] items) : IListWatch<T>
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        /// <summary>Completes when the informer watches: its list has been handled and it counts as synced.</summary>
        public Task Watching => _watching.Task;

        public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            return new ListResult<T>(items, "1");
        }

        public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            _watching.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }
    }

    /// <summary>
    /// The last informers to sync list nothing, so no add event follows their sync: the zone must
    /// still be published. (A lab's DNS pod stayed SERVFAIL for good this way: its readiness, and
    /// so any later EndpointSlice event, waited for this very publish.)
    /// </summary>
    [Fact]
    public async Task LastInformersToSyncListNothing_ZoneIsStillPublished()
    {
        var ports = new HttpPorts(ApiFixture.FreePort(), ApiFixture.FreePort(), ApiFixture.FreePort());
        var namespaces = new GatedList<V1Namespace>(new V1Namespace { Metadata = new V1ObjectMeta { Name = "default", ResourceVersion = "1" } });
        var services = new GatedList<V1Service>();
        var slices = new GatedList<V1EndpointSlice>();
        await using var dns = await DnsHost.StartAsync(
            new DnsHostOptions { Server = new DnsServerOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UdpWorkers = 1 }, Http = ports },
            new WatchSources(services, slices, namespaces, null),
            CancellationToken.None);
        namespaces.Release();
        await namespaces.Watching.WaitAsync(TimeSpan.FromSeconds(10));
        // Five times the watcher's pacing (100 ms between rebuilds): the namespace's add event has
        // been taken, and found the other informers unsynced, before their lists complete. (The
        // pause only orders the race; a correct watcher passes either way.)
        await Task.Delay(500);
        Assert.False(dns.Ready);
        Assert.Equal(ResponseCode.ServFail, (await DnsMessages.AskAsync(dns.EndPoint, DnsMessages.Query("default.svc.cluster.local", RecordType.A))).Rcode);
        services.Release();
        slices.Release();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!dns.Ready)
        {
            Assert.True(DateTime.UtcNow < deadline, "the zone was not published within 10 s of the last (empty) list");
            await Task.Delay(20);
        }
        Assert.Equal(ResponseCode.NoError, (await DnsMessages.AskAsync(dns.EndPoint, DnsMessages.Query("default.svc.cluster.local", RecordType.A))).Rcode);
    }
}
