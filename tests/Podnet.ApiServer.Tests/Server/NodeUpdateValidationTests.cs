using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// Upstream's ValidateNodeUpdate: spec.podCIDRs and spec.providerID go from empty to a value
/// once (node IPAM, the cloud), and are Forbidden to change after, with upstream's words.
/// </summary>
public sealed class NodeUpdateValidationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task PodCidrs_SetOnce_ThenChangeIsForbidden_AndTheStoredNodeKeepsThem()
    {
        var name = "n-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = name } });
        var set = new V1Patch("""{"spec":{"podCIDR":"10.244.7.0/24","podCIDRs":["10.244.7.0/24"],"providerID":"lab://a"}}""", V1Patch.PatchType.MergePatch);
        var node = await server.Client.CoreV1.PatchNodeAsync(set, name);
        Assert.Equal(["10.244.7.0/24"], node.Spec.PodCIDRs);

        var change = new V1Patch("""{"spec":{"podCIDR":"10.244.8.0/24","podCIDRs":["10.244.8.0/24"],"providerID":"lab://b"}}""", V1Patch.PatchType.MergePatch);
        var refused = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => server.Client.CoreV1.PatchNodeAsync(change, name));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        var status = JsonNode.Parse(refused.Response.Content)!;
        var causes = status["details"]!["causes"]!.AsArray().Select(c => ((string?)c!["field"], (string?)c["reason"], (string?)c["message"])).ToList();
        Assert.Contains(("spec.podCIDRs", "FieldValueForbidden", "Forbidden: node updates may not change podCIDR except from \"\" to valid"), causes);
        Assert.Contains(("spec.providerID", "FieldValueForbidden", "Forbidden: node updates may not change providerID except from \"\" to valid"), causes);
        Assert.Equal(["10.244.7.0/24"], (await server.Client.CoreV1.ReadNodeAsync(name)).Spec.PodCIDRs);

        // Other changes to the Node go on.
        var label = new V1Patch("""{"metadata":{"labels":{"zone":"a"}}}""", V1Patch.PatchType.MergePatch);
        Assert.Equal("a", (await server.Client.CoreV1.PatchNodeAsync(label, name)).Metadata.Labels["zone"]);
        await server.Client.CoreV1.DeleteNodeAsync(name);
    }
}
