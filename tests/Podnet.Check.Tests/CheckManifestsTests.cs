using Podnet.Check;

namespace Podnet.Check.Tests;

public sealed class CheckManifestsTests
{
    [Fact]
    public void Place_ThreeNodesOneDnsEndpoint_ClientBesideDnsAndServerBAway()
    {
        var placement = CheckManifests.Place(["n3", "n1", "n2"], new HashSet<string> { "n2" });
        Assert.Equal(new CheckPlacement("n2", "n1", null), placement);
    }

    [Fact]
    public void Place_DnsOnEveryPodNode_AddsAProbeOnANodeWithout()
    {
        var placement = CheckManifests.Place(["n1", "n2", "n3"], new HashSet<string> { "n1", "n2" });
        Assert.Equal(new CheckPlacement("n1", "n3", null), placement);
        var two = CheckManifests.Place(["n1", "n2"], new HashSet<string> { "n1", "n2" });
        Assert.Equal(new CheckPlacement("n1", "n2", null), two);
    }

    [Fact]
    public void Place_OneNode_EverythingThere()
    {
        Assert.Equal(new CheckPlacement("n1", "n1", null), CheckManifests.Place(["n1"], new HashSet<string>()));
        Assert.Throws<InvalidOperationException>(() => CheckManifests.Place([], new HashSet<string>()));
    }

    [Fact]
    public void Pods_AreBoundToTheirNodesAndLabelledForTheServiceAndPolicies()
    {
        var pods = CheckManifests.Pods("ns", new CheckPlacement("n1", "n2", "n3"));
        Assert.Equal(
            ["client n1 client", "server-a n1 web", "server-b n2 web", "guard-allow n2 guard-allow", "guard-deny n2 guard-deny", "probe-nodns n3 probe"],
            pods.Select(p => $"{p.Metadata.Name} {p.Spec.NodeName} {p.Metadata.Labels["app"]}"));
        var policies = CheckManifests.Policies("ns");
        Assert.Equal("client", policies[0].Spec.Ingress.Single().FromProperty.Single().PodSelector.MatchLabels["app"]);
        Assert.Null(policies[1].Spec.Ingress);
    }
}
