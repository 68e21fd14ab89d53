using System.Net;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class AllocationTests : IDisposable
{
    private readonly TempService _api = new("10.96.0.0/24");

    public void Dispose() => _api.Dispose();

    private Task<System.Text.Json.Nodes.JsonObject> Service(string name, string spec) =>
        _api.Create(ResourceCatalog.Services, $$"""{"metadata":{"name":"{{name}}"},"spec":{{spec}}}""");

    [Fact]
    public async Task DynamicClusterIPs_AvoidTheLowBand_AndNeverRepeat()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            var ip = (string)(await Service($"s{i}", """{"ports":[{"port":80}]}"""))["spec"]!["clusterIP"]!;
            Assert.True(seen.Add(ip), $"{ip} given twice");
            var last = IPAddress.Parse(ip).GetAddressBytes()[3];
            Assert.InRange(last, 17, 254);
        }
    }

    [Fact]
    public async Task RequestedClusterIP_InLowBand_IsGiven_TakenOrOutOfRange_Is422()
    {
        var dns = await Service("dns", """{"clusterIP":"10.96.0.10","ports":[{"port":53,"protocol":"UDP"}]}""");
        Assert.Equal("10.96.0.10", (string?)dns["spec"]!["clusterIP"]);
        var taken = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"x"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":53}]}}""");
        Assert.Contains(taken, c => c.Contains("failed to allocate IP 10.96.0.10: provided IP is already allocated", StringComparison.Ordinal));
        var outside = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"y"},"spec":{"clusterIP":"10.97.0.5","ports":[{"port":53}]}}""");
        Assert.Contains(outside, c => c.Contains("the provided IP (10.97.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/24", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClusterIP_IsFreedOnDelete_AndImmutable()
    {
        await Service("a", """{"clusterIP":"10.96.0.20","ports":[{"port":80}]}""");
        var error = await Assert.ThrowsAsync<Http.ApiException>(() => _api.Service.PatchAsync(ResourceCatalog.Services, "default", "a", null, PatchType.Merge, TempService.Json("""{"spec":{"clusterIP":"10.96.0.21"}}"""), false));
        Assert.Equal(422, error.Code);
        await _api.Service.DeleteAsync(ResourceCatalog.Services, "default", "a", DeleteOptions.Default);
        var again = await Service("b", """{"clusterIP":"10.96.0.20","ports":[{"port":80}]}""");
        Assert.Equal("10.96.0.20", (string?)again["spec"]!["clusterIP"]);
    }

    [Fact]
    public async Task NodePorts_AllocatedInRange_ConflictsRejected_FreedOnTypeChange()
    {
        var np = await Service("np", """{"type":"NodePort","ports":[{"port":80,"name":"a"},{"port":81,"name":"b","nodePort":30080}]}""");
        var first = (int)np["spec"]!["ports"]![0]!["nodePort"]!;
        Assert.InRange(first, 30000, 32767);
        Assert.Equal(30080, (int)np["spec"]!["ports"]![1]!["nodePort"]!);
        var clash = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"np2"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}}""");
        Assert.Contains("spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated", clash);
        var range = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"np3"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":80}]}}""");
        Assert.Contains("spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767", range);
        var cleared = await _api.Service.PatchAsync(ResourceCatalog.Services, "default", "np", null, PatchType.Merge, TempService.Json("""{"spec":{"type":"ClusterIP"}}"""), false);
        Assert.Null(cleared["spec"]!["ports"]![1]!["nodePort"]);
        await Service("np4", """{"type":"NodePort","ports":[{"port":80,"nodePort":30080}]}""");
    }

    [Fact]
    public async Task LoadBalancer_Local_GetsHealthCheckNodePort()
    {
        var lb = await Service("lb", """{"type":"LoadBalancer","externalTrafficPolicy":"Local","ports":[{"port":80}]}""");
        Assert.InRange((int)lb["spec"]!["healthCheckNodePort"]!, 30000, 32767);
        Assert.NotEqual((int)lb["spec"]!["healthCheckNodePort"]!, (int)lb["spec"]!["ports"]![0]!["nodePort"]!);
        var headless = await Service("h", """{"clusterIP":"None","ports":[{"port":80}]}""");
        Assert.Equal("None", (string?)headless["spec"]!["clusterIPs"]![0]);
    }

    [Fact]
    public async Task DualStack_FamiliesFollowPolicy()
    {
        using var dual = new TempService("10.96.0.0/24,fd00:10:96::/112");
        var single = await dual.Create(ResourceCatalog.Services, """{"metadata":{"name":"one"},"spec":{"ports":[{"port":80}]}}""");
        Assert.Equal(["IPv4"], single["spec"]!["ipFamilies"]!.AsArray().Select(f => (string?)f));
        var both = await dual.Create(ResourceCatalog.Services, """{"metadata":{"name":"two"},"spec":{"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]}}""");
        var ips = both["spec"]!["clusterIPs"]!.AsArray().Select(i => IPAddress.Parse((string)i!)).ToList();
        Assert.Equal([System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.AddressFamily.InterNetworkV6], ips.Select(i => i.AddressFamily));
        Assert.Equal(["IPv4", "IPv6"], both["spec"]!["ipFamilies"]!.AsArray().Select(f => (string?)f));
        var v6 = await dual.Create(ResourceCatalog.Services, """{"metadata":{"name":"six"},"spec":{"ipFamilies":["IPv6"],"ports":[{"port":80}]}}""");
        Assert.StartsWith("fd00:10:96::", (string)v6["spec"]!["clusterIP"]!);
        var causes = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"nope"},"spec":{"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]}}""");
        Assert.Contains("spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services", causes);
    }
}
