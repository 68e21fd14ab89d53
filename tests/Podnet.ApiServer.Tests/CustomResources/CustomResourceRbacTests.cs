using System.Text.Json.Nodes;
using Podnet.ApiServer.Auth;
using Podnet.ApiServer.Auth.Rbac;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>Custom resources under RBAC: authorized by group and resource, outside the bootstrap roles unless aggregated into them, as upstream.</summary>
public sealed class CustomResourceRbacTests
{
    private static readonly UserInfo Alice = UserInfo.Authenticated("alice", []);

    private static RequestAttributes Widgets(string verb) => new(Alice, verb, true, "", "example.com", "v1", "widgets", "", "team", "");

    private static JsonObject EditBinding() => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "alice-edit" },
        ["roleRef"] = new JsonObject { ["kind"] = "ClusterRole", ["name"] = "edit", ["apiGroup"] = "rbac.authorization.k8s.io" },
        ["subjects"] = new JsonArray(new JsonObject { ["kind"] = "User", ["name"] = "alice" }),
    };

    private static List<JsonObject> Aggregated(List<JsonObject> roles)
    {
        foreach (var (name, rules) in ClusterRoleAggregation.Calc(roles))
        {
            roles.Single(r => (string?)r["metadata"]!["name"] == name)["rules"] = rules.DeepClone();
        }
        return roles;
    }

    [Fact]
    public void TheEditRole_DoesNotCoverCustomResources_UntilARoleIsAggregatedIntoIt()
    {
        var roles = Aggregated(BootstrapPolicy.ClusterRoles.Select(r => r.DeepClone().AsObject()).ToList());
        var policy = new RbacPolicy(roles, [], [EditBinding()], []);
        Assert.True(policy.Authorize(new RequestAttributes(Alice, "list", true, "", "apps", "v1", "deployments", "", "team", "")).Allowed);
        Assert.False(policy.Authorize(Widgets("list")).Allowed);

        var widgetEditor = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = "widget-editor",
                ["labels"] = new JsonObject { ["rbac.authorization.k8s.io/aggregate-to-edit"] = "true" },
            },
            ["rules"] = new JsonArray(new JsonObject
            {
                ["apiGroups"] = new JsonArray("example.com"),
                ["resources"] = new JsonArray("widgets"),
                ["verbs"] = new JsonArray("get", "list", "watch", "create", "update", "patch", "delete"),
            }),
        };
        roles = Aggregated([.. BootstrapPolicy.ClusterRoles.Select(r => r.DeepClone().AsObject()), widgetEditor]);
        policy = new RbacPolicy(roles, [], [EditBinding()], []);
        Assert.True(policy.Authorize(Widgets("list")).Allowed);
        Assert.True(policy.Authorize(Widgets("delete")).Allowed);
        Assert.False(policy.Authorize(Widgets("deletecollection")).Allowed);
        var otherGroup = new RequestAttributes(Alice, "list", true, "", "example.org", "v1", "widgets", "", "team", "");
        Assert.False(policy.Authorize(otherGroup).Allowed);
    }
}
