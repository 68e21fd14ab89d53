using k8s.Models;
using Podnet.Controllers.LoadBalancer;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.LoadBalancer;

public sealed class LoadBalancerCalcTests
{
    private static readonly AddressRange[] Pool = [AddressRange.Parse("172.18.0.200-172.18.0.202"), AddressRange.Parse("fd00:172:18::200-fd00:172:18::201")];

    private static V1Service Lb(string name, string? ingress = null, string? requested = null, string? lbClass = null, string type = "LoadBalancer", params string[] families)
    {
        var service = Service(name, families: families.Length > 0 ? families : ["IPv4"]);
        service.Spec.Type = type;
        service.Spec.LoadBalancerIP = requested;
        service.Spec.LoadBalancerClass = lbClass;
        service.Metadata.CreationTimestamp = new DateTime(2026, 1, 1).AddMinutes(name[0]);
        if (ingress is not null)
        {
            service.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = ingress.Split(',').Select(ip => new V1LoadBalancerIngress { Ip = ip }).ToList() } };
        }
        return service;
    }

    private static string Summary(LoadBalancerPlan plan) =>
        string.Join(" ", plan.Assign.Select(a => $"{a.Name}=[{string.Join(",", a.Ips)}]").Concat(plan.Problems.Select(p => $"{p.Name}!{p.Reason}")));

    public static TheoryData<string, V1Service[], string> Cases => new()
    {
        { "first-free", [Lb("a"), Lb("b")], "a=[172.18.0.200] b=[172.18.0.201]" },
        { "keeps-existing", [Lb("a", ingress: "172.18.0.201"), Lb("b")], "b=[172.18.0.200]" },
        { "converged", [Lb("a", ingress: "172.18.0.200")], "" },
        { "requested", [Lb("a", requested: "172.18.0.202"), Lb("b")], "a=[172.18.0.202] b=[172.18.0.200]" },
        { "requested-outside", [Lb("a", requested: "10.0.0.1")], "a!LoadBalancerIPNotInPool" },
        { "requested-taken", [Lb("a", ingress: "172.18.0.202"), Lb("b", requested: "172.18.0.202")], "b!LoadBalancerIPTaken" },
        { "exhausted", [Lb("a"), Lb("b"), Lb("c"), Lb("d")], "a=[172.18.0.200] b=[172.18.0.201] c=[172.18.0.202] d!AllocationFailed" },
        { "dual-stack", [Lb("a", families: ["IPv6", "IPv4"])], "a=[fd00:172:18::200,172.18.0.200]" },
        { "v6-only", [Lb("a", families: ["IPv6"]), Lb("b", families: ["IPv6"]), Lb("c", families: ["IPv6"])], "a=[fd00:172:18::200] b=[fd00:172:18::201] c!AllocationFailed" },
        { "other-class-ignored-but-reserved", [Lb("a", ingress: "172.18.0.200", lbClass: "example.com/lb"), Lb("b")], "b=[172.18.0.201]" },
        { "our-class", [Lb("a", lbClass: "podnet.io/lb")], "a=[172.18.0.200]" },
        { "type-changed-clears-and-reserves-until-cleared", [Lb("a", ingress: "172.18.0.200", type: "ClusterIP"), Lb("b")], "b=[172.18.0.201] a=[]" },
        { "type-changed-cleared-frees", [Lb("a", type: "ClusterIP"), Lb("b")], "b=[172.18.0.200]" },
        { "foreign-status-outside-pool-kept", [Lb("a", ingress: "192.0.2.1", type: "ClusterIP")], "" },
        { "stale-ip-outside-pool-replaced", [Lb("a", ingress: "192.0.2.9")], "a=[172.18.0.200]" },
        { "duplicate-status-second-moves", [Lb("a", ingress: "172.18.0.200"), Lb("b", ingress: "172.18.0.200")], "b=[172.18.0.201]" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Calc_Table(string name, V1Service[] services, string expected)
    {
        Assert.NotNull(name);
        Assert.Equal(expected, Summary(LoadBalancerCalc.Calc(Pool, services)));
    }

    [Fact]
    public void Calc_DeletedServiceFreesItsAddress()
    {
        var first = LoadBalancerCalc.Calc(Pool, [Lb("a", ingress: "172.18.0.200"), Lb("b", ingress: "172.18.0.201")]);
        Assert.Empty(first.Assign);
        Assert.Equal("c=[172.18.0.200]", Summary(LoadBalancerCalc.Calc(Pool, [Lb("b", ingress: "172.18.0.201"), Lb("c")])));
    }

    [Theory]
    [InlineData("172.18.0.250-172.18.0.200")]
    [InlineData("172.18.0.200-fd00::1")]
    [InlineData("nonsense")]
    public void AddressRange_RejectsWhatIsNotARange(string text) =>
        Assert.ThrowsAny<FormatException>(() => AddressRange.Parse(text));

    [Fact]
    public void AddressRange_ParseList_CommaSeparated() =>
        Assert.Equal(2, AddressRange.ParseList("172.18.0.200-172.18.0.250, fd00:172:18::200-fd00:172:18::250").Count);

    [Theory]
    [InlineData("172.18.0.200-172.18.0.250", "172.18.0.250", true)]
    [InlineData("172.18.0.200-172.18.0.250", "172.18.0.251", false)]
    [InlineData("10.0.0.0/30", "10.0.0.3", true)]
    [InlineData("fd00::/126", "fd00::4", false)]
    public void AddressRange_ParseAndContains(string range, string ip, bool contained) =>
        Assert.Equal(contained, AddressRange.Parse(range).Contains(System.Net.IPAddress.Parse(ip)));
}
