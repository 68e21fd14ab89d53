using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// One owner for each EndpointSlice of a selector-less Service, against the `podnet server`
/// process (./podnet build): the controllers' Endpoints mirroring (its `podnet controllers`
/// child) for Endpoints a user writes, as kube-controller-manager's; the server itself for the
/// `kubernetes` Service, as kube-apiserver's endpoint reconciler, with controllers or without.
/// </summary>
public sealed class MirroredSlicesTests(ServerWithControllers server) : IClassFixture<ServerWithControllers>, IDisposable
{
    private const string ManagedBy = "endpointslice.kubernetes.io/managed-by";
    private const string Mirroring = "endpointslicemirroring-controller.k8s.io";

    private readonly string _state = Directory.CreateTempSubdirectory("podnet-mirror-none-").FullName;

    private Kubernetes Client => server.Client;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task SelectorlessService_HasExactlyOneMirroredSlice_InStepThroughCreateUpdateAndDelete()
    {
        var (ns, rv) = await NewNamespace(Client);
        await using var watch = SliceWatch.Start(Client, ns, rv);
        await Client.CoreV1.CreateNamespacedServiceAsync(SelectorlessService("ext"), ns);
        var endpoints = await Client.CoreV1.CreateNamespacedEndpointsAsync(new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "ext" },
            Subsets = [new V1EndpointSubset
            {
                Addresses = [new V1EndpointAddress { Ip = "192.0.2.10", Hostname = "a" }],
                NotReadyAddresses = [new V1EndpointAddress { Ip = "192.0.2.11" }],
                Ports = [new Corev1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
            }],
        }, ns);

        var created = Assert.Single(await watch.UntilAsync("ext", s => Shows(s, [("192.0.2.10", true), ("192.0.2.11", false)], [("http", 8080)]), "the mirrored slice"));
        AssertMadeByTheMirroring(created, "ext");
        Assert.Equal("IPv4", created.AddressType);
        Assert.Equal("a", created.Endpoints[0].Hostname);
        var owner = Assert.Single(created.Metadata.OwnerReferences);
        Assert.Equal(("Endpoints", "ext", endpoints.Metadata.Uid, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller == true));

        endpoints.Subsets = [new V1EndpointSubset
        {
            Addresses = [new V1EndpointAddress { Ip = "192.0.2.20" }, new V1EndpointAddress { Ip = "192.0.2.21" }],
            Ports = [new Corev1EndpointPort { Name = "http", Port = 9090, Protocol = "TCP" }, new Corev1EndpointPort { Name = "metrics", Port = 9100, Protocol = "TCP" }],
        }];
        await Client.CoreV1.ReplaceNamespacedEndpointsAsync(endpoints, "ext", ns);
        AssertMadeByTheMirroring(Assert.Single(await watch.UntilAsync("ext", s => Shows(s, [("192.0.2.20", true), ("192.0.2.21", true)], [("http", 9090), ("metrics", 9100)]), "the new addresses and ports")), "ext");

        await Client.CoreV1.DeleteNamespacedEndpointsAsync("ext", ns);
        await watch.UntilAsync("ext", s => s.Count == 0, "no slice once the Endpoints is deleted");

        await Client.CoreV1.CreateNamespacedEndpointsAsync(new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "ext" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "192.0.2.30" }], Ports = [new Corev1EndpointPort { Name = "http", Port = 8080 }] }],
        }, ns);
        AssertMadeByTheMirroring(Assert.Single(await watch.UntilAsync("ext", s => Shows(s, [("192.0.2.30", true)], [("http", 8080)]), "the slice of the Endpoints made again")), "ext");

        await Client.CoreV1.DeleteNamespacedServiceAsync("ext", ns);
        await watch.UntilAsync("ext", s => s.Count == 0, "no slice once the Service is deleted");
        Assert.NotNull(await Client.CoreV1.ReadNamespacedEndpointsAsync("ext", ns));
        Assert.Equal(1, watch.MostAtOnce("ext"));
    }

    [Fact]
    public async Task KubernetesService_HasTheServersOneSlice_AtTheAdvertisedAddress_AndTheControllersDoNotMirrorIt()
    {
        await using var defaults = SliceWatch.Start(Client, "default", "0");
        var slice = Assert.Single(await defaults.UntilAsync("kubernetes", s => s.Count > 0, "the kubernetes slice"));
        AssertKubernetesSlice(slice, server.Address, 6443);
        var endpoints = await Client.CoreV1.ReadNamespacedEndpointsAsync("kubernetes", "default");
        Assert.Equal("true", endpoints.Metadata.Labels["endpointslice.kubernetes.io/skip-mirror"]);

        // The mirroring syncs every Endpoints in one pass, one pass after another: once a change
        // made after a first mirrored slice shows, a whole pass has run with `kubernetes` in it.
        var (ns, rv) = await NewNamespace(Client);
        await using var watch = SliceWatch.Start(Client, ns, rv);
        await Client.CoreV1.CreateNamespacedServiceAsync(SelectorlessService("probe"), ns);
        var probe = await Client.CoreV1.CreateNamespacedEndpointsAsync(new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "probe" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "192.0.2.40" }], Ports = [new Corev1EndpointPort { Name = "http", Port = 8080 }] }],
        }, ns);
        await watch.UntilAsync("probe", s => Shows(s, [("192.0.2.40", true)], [("http", 8080)]), "the probe's mirrored slice");
        probe.Subsets[0].Addresses = [new V1EndpointAddress { Ip = "192.0.2.41" }];
        await Client.CoreV1.ReplaceNamespacedEndpointsAsync(probe, "probe", ns);
        await watch.UntilAsync("probe", s => Shows(s, [("192.0.2.41", true)], [("http", 8080)]), "the probe's changed slice");

        Assert.Equal("kubernetes", Assert.Single(await defaults.UntilAsync("kubernetes", _ => true, "the kubernetes slices")).Metadata.Name);
        Assert.Equal(1, defaults.MostAtOnce("kubernetes"));
    }

    [Fact]
    public async Task ControllersNone_NoSliceForASelectorlessService_AndTheKubernetesServiceHasItsOneSlice()
    {
        using var alone = ServerProcess.Start(_state, controllers: "none");
        using var client = alone.Client();
        var (ns, _) = await NewNamespace(client);
        await client.CoreV1.CreateNamespacedServiceAsync(SelectorlessService("ext"), ns);
        await client.CoreV1.CreateNamespacedEndpointsAsync(new V1Endpoints
        {
            Metadata = new V1ObjectMeta { Name = "ext" },
            Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = "192.0.2.10" }], Ports = [new Corev1EndpointPort { Name = "http", Port = 8080 }] }],
        }, ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" } }, ns);

        // A server that mirrored would write the slice inside the write of the Endpoints, so
        // before the ConfigMap made after it; with no controllers, nothing else could write one.
        Assert.Equal("192.0.2.10", (await client.CoreV1.ReadNamespacedEndpointsAsync("ext", ns)).Subsets[0].Addresses[0].Ip);
        Assert.NotNull(await client.CoreV1.ReadNamespacedConfigMapAsync("after", ns));
        Assert.Empty((await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns)).Items);

        var slice = Assert.Single((await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync()).Items);
        AssertKubernetesSlice(slice, "127.0.0.1", client.BaseUri.Port);
    }

    [Fact]
    public async Task KubernetesSliceAndEndpoints_LabelledAsAnOlderServerDid_AreMadeRightAtTheNextStart()
    {
        using (var first = ServerProcess.Start(_state, controllers: "none"))
        {
            using var client = first.Client();
            await client.DiscoveryV1.PatchNamespacedEndpointSliceAsync(new V1Patch("""{"metadata":{"labels":{"endpointslice.kubernetes.io/managed-by":"podnet-apiserver"}}}""", V1Patch.PatchType.MergePatch), "kubernetes", "default");
            await client.CoreV1.PatchNamespacedEndpointsAsync(new V1Patch("""{"metadata":{"labels":{"endpointslice.kubernetes.io/skip-mirror":null}}}""", V1Patch.PatchType.MergePatch), "kubernetes", "default");
        }
        using var again = ServerProcess.Start(_state, controllers: "none");
        using var restarted = again.Client();
        AssertKubernetesSlice(await restarted.DiscoveryV1.ReadNamespacedEndpointSliceAsync("kubernetes", "default"), "127.0.0.1", restarted.BaseUri.Port);
        Assert.Equal("true", (await restarted.CoreV1.ReadNamespacedEndpointsAsync("kubernetes", "default")).Metadata.Labels["endpointslice.kubernetes.io/skip-mirror"]);
    }

    /// <summary>The controller's slice, by the name it asks for: a server writing its own would name it otherwise.</summary>
    private static void AssertMadeByTheMirroring(V1EndpointSlice slice, string service)
    {
        Assert.Equal(Mirroring, slice.Metadata.Labels[ManagedBy]);
        Assert.Equal(service + "-", slice.Metadata.GenerateName);
        Assert.Matches($"^{service}-[a-z0-9]{{5}}$", slice.Metadata.Name);
    }

    private static void AssertKubernetesSlice(V1EndpointSlice slice, string address, int port)
    {
        Assert.Equal(("default", "kubernetes", "IPv4"), (slice.Metadata.NamespaceProperty, slice.Metadata.Name, slice.AddressType));
        // As kube-apiserver's: the service name is its only label, so neither controller counts it as its own.
        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/service-name"] = "kubernetes" }, slice.Metadata.Labels);
        var endpoint = Assert.Single(slice.Endpoints);
        Assert.Equal([address], endpoint.Addresses);
        Assert.True(endpoint.Conditions.Ready);
        var slicePort = Assert.Single(slice.Ports);
        Assert.Equal(("https", port, "TCP"), (slicePort.Name, slicePort.Port, slicePort.Protocol));
    }

    private static bool Shows(List<V1EndpointSlice> slices, (string Ip, bool Ready)[] endpoints, (string Name, int Port)[] ports) =>
        slices is [var slice]
        && (slice.Endpoints ?? []).Select(e => (e.Addresses[0], e.Conditions?.Ready == true)).SequenceEqual(endpoints)
        && (slice.Ports ?? []).Select(p => (p.Name, p.Port ?? 0)).Order().SequenceEqual(ports.Order())
        && (slice.Ports ?? []).All(p => p.Protocol == "TCP");

    private static V1Service SelectorlessService(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }] },
    };

    private static async Task<(string Name, string ResourceVersion)> NewNamespace(Kubernetes client)
    {
        var created = await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "m-" + Guid.NewGuid().ToString("N")[..8] } });
        return (created.Metadata.Name, created.Metadata.ResourceVersion);
    }
}

/// <summary>
/// One `podnet server` with all its controllers for the class, on a loopback address of its own
/// at port 6443 (the lab's port, which a server elsewhere on this machine may hold on another
/// address), so that the `kubernetes` slice advertises what a lab's does.
/// </summary>
public sealed class ServerWithControllers : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-mirror-").FullName;
    private readonly ServerProcess _process;

    public ServerWithControllers()
    {
        Address = $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(0, 256)}.{Random.Shared.Next(1, 255)}";
        try
        {
            _process = ServerProcess.StartOn(_state, 6443, Address);
            Client = _process.Client();
        }
        catch
        {
            Directory.Delete(_state, recursive: true);
            throw;
        }
    }

    public string Address { get; }

    public Kubernetes Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        _process.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
