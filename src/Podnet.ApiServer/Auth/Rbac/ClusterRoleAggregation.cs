using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>
/// kube-controller-manager's clusterrole-aggregation controller, run by the server's sweeper:
/// a ClusterRole with an aggregationRule gets as its rules those of every other ClusterRole its
/// selectors match, in the order of their names, each distinct rule once; written only when
/// they differ from the stored ones.
/// </summary>
internal static class ClusterRoleAggregation
{
    /// <summary>
    /// The aggregated rules each aggregating role should have, for the roles whose rules differ
    /// (pure). Aggregated roles may aggregate each other (admin takes edit's, edit takes view's),
    /// so the rules are folded until nothing changes (at most as many rounds as there are roles),
    /// reaching in one write what the upstream controller reaches over several syncs.
    /// </summary>
    public static List<(string Name, JsonArray Rules)> Calc(IReadOnlyList<JsonObject> roles)
    {
        var byName = roles.OrderBy(r => r.Name(), StringComparer.Ordinal).ToList();
        var rules = byName.ToDictionary(r => r.Name(), r => Normal(r["rules"] as JsonArray ?? []), StringComparer.Ordinal);
        var aggregating = byName.Where(r => r["aggregationRule"]?["clusterRoleSelectors"] is JsonArray).ToList();
        for (var round = 0; round <= aggregating.Count; round++)
        {
            var changed = false;
            foreach (var role in aggregating)
            {
                var selectors = (JsonArray)role["aggregationRule"]!["clusterRoleSelectors"]!;
                var folded = new JsonArray();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var other in byName)
                {
                    if (other.Name() == role.Name() || !selectors.OfType<JsonObject>().Any(s => ResourceService.SelectorMatches(s, other["metadata"]?["labels"] as JsonObject)))
                    {
                        continue;
                    }
                    foreach (var rule in rules[other.Name()])
                    {
                        if (seen.Add(rule!.ToJsonString()))
                        {
                            folded.Add(rule.DeepClone());
                        }
                    }
                }
                if (folded.ToJsonString() != rules[role.Name()].ToJsonString())
                {
                    rules[role.Name()] = folded;
                    changed = true;
                }
            }
            if (!changed)
            {
                break;
            }
        }
        return aggregating
            .Where(r => Normal(r["rules"] as JsonArray ?? []).ToJsonString() != rules[r.Name()].ToJsonString())
            .Select(r => (r.Name(), rules[r.Name()]))
            .ToList();
    }

    private static JsonArray Normal(JsonArray rules) => new(rules.Select(r => (JsonNode)PolicyRule.From(r).ToJson()).ToArray());

    public static Task ReconcileAsync(ResourceService service) =>
        service.Store.WriteAsync(txn =>
        {
            var roles = txn.List(ResourceCatalog.ClusterRoles.Key, null).Select(o => o.Parse()).ToList();
            foreach (var (name, rules) in Calc(roles))
            {
                service.Update(txn, ResourceCatalog.ClusterRoles, "", name, ResourceService.Internal, current =>
                {
                    current["rules"] = rules.DeepClone();
                    return current;
                }, null, new Fields.FieldManager("clusterrole-aggregation-controller"));
            }
            return 0;
        });
}
