using System.Text.Json.Nodes;
using Podnet.Lab.State;

namespace Podnet.Lab.Tests;

public sealed class LabFileTests
{
    [Fact]
    public void Parse_TheShippedExample()
    {
        var settings = LabFile.Parse(File.ReadAllText(Path.Combine(Root(), "examples", "lab.yaml")));
        Assert.Equal("overlay", settings.Name);
        Assert.Equal(3, settings.Nodes);
        Assert.Equal("vxlan", settings.Routing);
        Assert.Equal(1, settings.NodeSubnets["n3"]);
        Assert.Equal(2, settings.LinkLoss["n3"]);
        Assert.Equal("b", settings.NodeZones["n3"]);
        var plan = Topology.LabPlanner.Build(settings.ToSpec());
        Assert.NotNull(plan.Router);
        Assert.Equal("172.18.1.13/24", plan.Nodes[2].Address.ToString());
    }

    [Fact]
    public void Parse_AnExistingApiServer_AndTheControllersToRun()
    {
        var settings = LabFile.Parse("kind: Lab\nspec:\n  kubeconfig: /etc/kubernetes/admin.conf\n  controllers: nodeipam,scheduler\n");
        Assert.Equal("/etc/kubernetes/admin.conf", settings.ExternalKubeconfig);
        Assert.True(settings.UsesExternalApiServer);
        Assert.Equal("nodeipam,scheduler", settings.EffectiveControllers);
        Assert.Equal("none", (settings with { Controllers = null }).EffectiveControllers);
        Assert.Equal("all", new LabSettings().EffectiveControllers);
    }

    [Theory]
    [InlineData("kind: Pod", "kind: must be Lab")]
    [InlineData("kind: Lab\nspec: {nodeOptions: {n1: &o {subnet: 1}, *o}}", "spec.nodeOptions: node names must be plain strings")] // found by InputFuzzTests
    [InlineData("kind: Lab\nspec: {? [nodes] : 3}", "spec: field names must be plain strings")]
    [InlineData("kind: Lab\nspec: {nodes: three}", "spec.nodes: must be a whole number, not 'three'")]
    [InlineData("kind: Lab\nspec: {routing: bgp}", "spec.routing: must be one of host-gw, vxlan, not 'bgp'")]
    [InlineData("kind: Lab\nspec: {nodez: 3}", "spec.nodez: unknown field")]
    [InlineData("kind: Lab\nspec: {nodeOptions: {n1: {delay: 10ms}}}", "spec.nodeOptions.n1.delay: link delay is not supported: this kernel has no netem")]
    [InlineData("kind: Lab\nspec: {nodeOptions: {n1: {jitter: 1}}}", "spec.nodeOptions.n1.jitter: unknown field")]
    [InlineData("kind: Lab\nspec: {nodeOptions: {n1: {zone: 'a b'}}}", "spec.nodeOptions.n1.zone: 'a b' is not a label value")]
    [InlineData("kind: Lab\napiVersion: v1", "apiVersion: must be podnet.io/v1alpha1")]
    [InlineData("kind: [", "not valid YAML")]
    [InlineData("kind: Lab\nspec: {nodeOptions: {n1: {subnet: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}", "nests more than 32 levels deep")]
    [InlineData("kind: Lab\nspec: {network: Campus}", "spec.network: network name 'Campus' may contain only a-z and 0-9")]
    [InlineData("kind: Lab\nspec: {dnsUpstreams: resolver.example}", "spec.dnsUpstreams: DNS upstream 'resolver.example' is not an address")]
    [InlineData("kind: Lab\nspec: {dnsUpstreams: '172.18.0.1:0'}", "spec.dnsUpstreams: DNS upstream '172.18.0.1:0'")]
    [InlineData("kind: Lab\nspec: {nodeGrace: 5}", "spec.nodeGrace: '5' is not a duration like 60s")]
    [InlineData("kind: Lab\nspec: {nodeGrace: 0s}", "spec.nodeGrace: '0s' must be longer than 0")]
    public void Parse_NamesWhatIsWrong(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => LabFile.Parse(text)).Message);

    [Fact]
    public void Parse_HundredThousandBrackets_IsAFormatError_NotAStackOverflow()
    {
        Assert.Contains("nests more than", Assert.Throws<FormatException>(() => LabFile.Parse("kind: Lab\nspec: " + new string('[', 100_000))).Message);
    }

    [Fact]
    public void Schema_AcceptsTheValuesTheParserAccepts()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Root(), "examples", "lab.schema.json")))!;
        var spec = schema["properties"]!["spec"]!["properties"]!;
        Assert.Equal(["host-gw", "vxlan"], spec["routing"]!["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal(["island", "flat", "isolated"], spec["architecture"]!["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal(["ipv4", "ipv6", "dual"], spec["ipFamily"]!["enum"]!.AsArray().Select(v => (string)v!));
        Assert.Equal(["subnet", "loss", "zone"], spec["nodeOptions"]!["additionalProperties"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Topology.LabPlanner.MaxNodes, (int)spec["nodes"]!["maximum"]!);
        Assert.Equal(Topology.LabPlanner.MaxSubnets, (int)spec["nodeOptions"]!["additionalProperties"]!["properties"]!["subnet"]!["maximum"]!);
        Assert.Equal($"^[a-z][a-z0-9]{{0,{Topology.NetworkName.MaxLength - 1}}}$", (string)spec["network"]!["pattern"]!);
        Assert.NotNull(spec["podCIDR"]);
        Assert.NotNull(spec["dnsUpstreams"]);
        foreach (var value in new[] { "host-gw", "vxlan" })
        {
            Assert.Equal(value, LabFile.Parse($"kind: Lab\nspec: {{routing: {value}}}").Routing);
        }
    }

    [Fact]
    public void Parse_PolicyDeny_DropOrReject_AnythingElseNamed()
    {
        Assert.Equal("reject", LabFile.Parse("kind: Lab\nspec: {policyDeny: reject}").PolicyDeny);
        Assert.Null(LabFile.Parse("kind: Lab\nspec: {nodes: 1}").PolicyDeny);
        Assert.Contains("spec.policyDeny", Assert.Throws<FormatException>(() => LabFile.Parse("kind: Lab\nspec: {policyDeny: refuse}")).Message);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Root(), "examples", "lab.schema.json")))!;
        Assert.Equal(["drop", "reject"], schema["properties"]!["spec"]!["properties"]!["policyDeny"]!["enum"]!.AsArray().Select(v => (string)v!));
    }

    [Fact]
    public void Parse_NodeGrace_IsPassedToTheControllers()
    {
        var settings = LabFile.Parse("kind: Lab\nspec: {nodeGrace: 5s}");
        Assert.Equal("5s", settings.EffectiveNodeGrace);
        Assert.Equal("40s", new LabSettings().EffectiveNodeGrace);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Root(), "examples", "lab.schema.json")))!;
        var pattern = (string)schema["properties"]!["spec"]!["properties"]!["nodeGrace"]!["pattern"]!;
        Assert.Matches(pattern, "5s");
        Assert.Matches(pattern, "1m0s");
    }

    [Theory]
    [InlineData("40s", 40)]
    [InlineData("5s", 5)]
    [InlineData("1500ms", 2)]
    [InlineData("1m0s", 60)]
    public void AgentsLease_LastsTheGracePeriod_SoTheyRenewWithinIt(string grace, int seconds)
    {
        // The agent renews at a quarter of its Lease's duration; a 5 s grace with kubelet's fixed
        // 10 s renewals marked every node Unknown between two of them.
        Assert.Equal(seconds, Podnet.Lab.State.LabProcesses.LeaseSeconds(grace));
    }

    [Fact]
    public void Parse_NetworkAndPodCidr()
    {
        var settings = LabFile.Parse("kind: Lab\nspec:\n  architecture: flat\n  network: campus\n  podCIDR: 10.245.0.0/16\n");
        Assert.Equal("campus", settings.Network);
        Assert.Equal("10.245.0.0/16", settings.PodCidr);
        var plan = Topology.LabPlanner.Build((settings with { NetworkSlot = 3 }).ToSpec());
        Assert.Equal("pn-net-campus", plan.Network!.Netns);
        Assert.Contains(System.Net.IPNetwork.Parse("10.245.0.0/16"), plan.Network.Routes);
    }

    [Fact]
    public void Parse_DnsUpstreams_AddressesWithOrWithoutPorts_NoneByDefault()
    {
        var settings = LabFile.Parse("kind: Lab\nspec:\n  dnsUpstreams: 172.18.0.1, 172.18.0.1:5353,[fd00:172:18::1]:53\n");
        Assert.Equal(["172.18.0.1", "172.18.0.1:5353", "[fd00:172:18::1]:53"], LabSettings.SplitUpstreams(settings.DnsUpstreams));
        Assert.Null(LabFile.Parse("kind: Lab\nspec: {nodes: 1}").DnsUpstreams);
        Assert.Empty(LabSettings.SplitUpstreams(null));
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Podnet.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("no repository root");
    }
}
