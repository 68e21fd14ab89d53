using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tests.Unit;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>deploy/crds/clusternetworkpolicies.yaml (what `lab up` installs) on this server: accepted, served, and validating upstream-shaped policies.</summary>
public sealed class ClusterNetworkPolicyCrdTests : IDisposable
{
    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    private async Task<ResourceInfo> InstallAsync()
    {
        var text = File.ReadAllText(Path.Combine(Testing.RepoPaths.Root, "deploy", "crds", "clusternetworkpolicies.yaml"));
        var created = await _api.Service.CreateAsync(ResourceCatalog.CustomResourceDefinitions, null, YamlToJson.Documents(text).Single()!.AsObject(), false);
        Assert.True(CustomResource.IsEstablished(created), created["status"]!.ToJsonString());
        return _api.Service.Crds.Find("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies")!;
    }

    [Fact]
    public async Task TheLabsDefinition_IsEstablished_ClusterScoped_WithUpstreamsNames()
    {
        var cnp = await InstallAsync();
        Assert.Equal(("ClusterNetworkPolicy", false, "clusternetworkpolicy"), (cnp.Kind, cnp.Namespaced, cnp.Singular));
        Assert.Equal(["cnp"], cnp.ShortNames);
        Assert.Equal(["Tier", "Priority", "Age"], cnp.Custom!.Columns["v1alpha2"].Select(c => c.Name));
        // Its rules (self.start < self.end, isCIDR(self)) are all in the CEL subset Podnet evaluates.
        Assert.Empty(Validation.CrdValidation.NotEnforced(_api.Store.Get(ResourceCatalog.CustomResourceDefinitions.Key, "", "clusternetworkpolicies.policy.networking.k8s.io")!.Parse()));
    }

    [Fact]
    public async Task ATenantIsolationPolicy_IsAccepted_AndABadOneIsRefusedNamingTheFields()
    {
        var cnp = await InstallAsync();
        var isolation = YamlToJson.Documents("""
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: tenant-isolation}
            spec:
              tier: Admin
              priority: 10
              subject:
                namespaces:
                  matchExpressions: [{key: tenant, operator: Exists}]
              ingress:
              - name: deny-other-tenants
                action: Deny
                from:
                - namespaces:
                    matchExpressions: [{key: tenant, operator: Exists}]
            """).Single()!.AsObject();
        var created = await _api.Service.CreateAsync(cnp, null, isolation, false);
        Assert.Equal("Admin", (string?)created["spec"]!["tier"]);

        var bad = isolation.DeepClone().AsObject();
        bad["metadata"]!["name"] = "bad";
        bad["spec"]!["tier"] = "Platinum";
        bad["spec"]!["priority"] = 5000;
        bad["spec"]!["ingress"]![0]!["action"] = "Drop";
        var error = await Assert.ThrowsAsync<ApiException>(() => _api.Service.CreateAsync(cnp, null, bad, false));
        Assert.Equal(422, error.Code);
        var fields = error.Details!["causes"]!.AsArray().Select(c => (string?)c!["field"]).ToList();
        Assert.Contains("spec.tier", fields);
        Assert.Contains("spec.priority", fields);
        Assert.Contains("spec.ingress[0].action", fields);
    }

    [Fact]
    public async Task CelRules_APortRangeNotAscending_AndANetworkThatIsNoCidr_AreRefusedWithUpstreamsMessages()
    {
        var cnp = await InstallAsync();
        var policy = YamlToJson.Documents("""
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: cel}
            spec:
              tier: Baseline
              priority: 1
              subject: {namespaces: {}}
              egress:
              - action: Deny
                to: [{networks: [10.0.0.1/8, "fd00::/8", 10.0.0.0/33, not-a-cidr]}]
                protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}, {udp: {destinationPort: {range: {start: 53, end: 54}}}}]
            """).Single()!.AsObject();
        var error = await Assert.ThrowsAsync<ApiException>(() => _api.Service.CreateAsync(cnp, null, policy.DeepClone().AsObject(), false));
        Assert.Equal(422, error.Code);
        var causes = error.Details!["causes"]!.AsArray().Select(c => $"{(string?)c!["field"]}: {(string?)c["message"]}").ToList();
        Assert.Equal(
            [
                "spec.egress[0].protocols[0].tcp.destinationPort.range: Invalid value: \"object\": Start port must be less than End port",
                "spec.egress[0].to[0].networks[2]: Invalid value: \"string\": Invalid CIDR format provided",
                "spec.egress[0].to[0].networks[3]: Invalid value: \"string\": Invalid CIDR format provided",
            ],
            causes.Order(StringComparer.Ordinal));
        policy["spec"]!["egress"]![0]!["to"]![0]!["networks"] = new JsonArray("10.0.0.1/8", "fd00::/8");
        policy["spec"]!["egress"]![0]!["protocols"]![0]!["tcp"]!["destinationPort"]!["range"] = new JsonObject { ["start"] = 80, ["end"] = 90 };
        var created = await _api.Service.CreateAsync(cnp, null, policy, false);
        Assert.Equal(90, (int)created["spec"]!["egress"]![0]!["protocols"]![0]!["tcp"]!["destinationPort"]!["range"]!["end"]!);
    }
}
