using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>networking.k8s.io/v1 ServiceCIDR and IPAddress: the allocator's records, wider ranges, the finalizer.</summary>
public sealed class ServiceCidrTests : IDisposable
{
    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    private Task<JsonObject> Cidr(string name, params string[] cidrs) =>
        _api.Service.CreateAsync(ResourceCatalog.ServiceCidrs, null, TempService.Json("{\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"cidrs\":[" + string.Join(",", cidrs.Select(c => $"\"{c}\"")) + "]}}"), false);

    private JsonObject? Get(ResourceInfo r, string ns, string name) => _api.Store.Get(r.Key, ns, name)?.Parse();

    [Fact]
    public async Task ClusterIP_RecordedAsIPAddress_OwnedByItsService_GoneWithIt()
    {
        var svc = await _api.Create(ResourceCatalog.Services, """{"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}""");
        var ip = (string)svc["spec"]!["clusterIP"]!;

        var address = Get(ResourceCatalog.IPAddresses, "", ip)!;
        Assert.Equal("""{"ipaddress.kubernetes.io/ip-family":"IPv4","ipaddress.kubernetes.io/managed-by":"ipallocator.k8s.io"}""", address["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("""{"group":"","resource":"services","namespace":"default","name":"web"}""", address["spec"]!["parentRef"]!.ToJsonString());

        await _api.Service.DeleteAsync(ResourceCatalog.Services, "default", "web", DeleteOptions.Default);
        Assert.Null(Get(ResourceCatalog.IPAddresses, "", ip));
    }

    [Fact]
    public async Task AnAddressRecordedForAnother_IsTaken_EvenWithoutItsService()
    {
        await _api.Service.CreateAsync(ResourceCatalog.IPAddresses, null, TempService.Json("""{"metadata":{"name":"10.96.0.50"},"spec":{"parentRef":{"resource":"services","namespace":"x","name":"y"}}}"""), false);
        var causes = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"web"},"spec":{"clusterIP":"10.96.0.50","ports":[{"port":80}]}}""");
        Assert.Contains("spec.clusterIPs: Invalid value: [\"10.96.0.50\"]: failed to allocate IP 10.96.0.50: provided IP is already allocated", causes);
    }

    [Fact]
    public async Task ExtraServiceCidr_WidensTheRange_AndCannotGoWhileInUse()
    {
        var first = await Cidr("kubernetes", "10.96.0.0/16");
        Assert.Contains("networking.k8s.io/service-cidr-finalizer", first["metadata"]!["finalizers"]!.AsArray().Select(f => (string?)f));
        Assert.Equal("True", (string?)first["status"]!["conditions"]![0]!["status"]);
        Assert.NotEmpty(await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"outside"},"spec":{"clusterIP":"10.100.0.5","ports":[{"port":80}]}}"""));

        await Cidr("extra", "10.100.0.0/24");
        await _api.Create(ResourceCatalog.Services, """{"metadata":{"name":"wide"},"spec":{"clusterIP":"10.100.0.5","ports":[{"port":80}]}}""");

        await _api.Service.DeleteAsync(ResourceCatalog.ServiceCidrs, null, "extra", DeleteOptions.Default);
        var held = Get(ResourceCatalog.ServiceCidrs, "", "extra")!;
        Assert.NotNull(held["metadata"]!["deletionTimestamp"]);
        Assert.Equal("False Terminating", $"{held["status"]!["conditions"]![0]!["status"]} {held["status"]!["conditions"]![0]!["reason"]}");
        // A range being deleted gives no new addresses.
        Assert.NotEmpty(await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"late"},"spec":{"clusterIP":"10.100.0.6","ports":[{"port":80}]}}"""));

        await _api.Service.DeleteAsync(ResourceCatalog.Services, "default", "wide", DeleteOptions.Default);
        Assert.Null(Get(ResourceCatalog.ServiceCidrs, "", "extra"));
    }

    [Theory]
    [InlineData("""{"metadata":{"name":"c"},"spec":{"cidrs":["10.0.0.1/24"]}}""", "spec.cidrs[0]: Invalid value: \"10.0.0.1/24\": must be in canonical form (\"10.0.0.0/24\")")]
    [InlineData("""{"metadata":{"name":"c"},"spec":{"cidrs":["10.0.0.0/24","10.1.0.0/24"]}}""", "spec.cidrs: Invalid value: \"10.0.0.0/24,10.1.0.0/24\": may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64")]
    [InlineData("""{"metadata":{"name":"c"},"spec":{}}""", "spec.cidrs: Required value: at least one CIDR required")]
    public async Task ServiceCidr_Invalid(string body, string expected) =>
        Assert.Contains(expected, await _api.Invalid(ResourceCatalog.ServiceCidrs, body));

    [Fact]
    public async Task IPAddress_NameIsTheCanonicalAddress()
    {
        var causes = await _api.Invalid(ResourceCatalog.IPAddresses, """{"metadata":{"name":"fd00:0:0::1"},"spec":{"parentRef":{"resource":"services","name":"a"}}}""");
        Assert.Contains("metadata.name: Invalid value: \"fd00:0:0::1\": must be in canonical form (\"fd00::1\")", causes);
    }
}
