using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>A chain with the rules it should hold, in order.</summary>
public sealed record PlannedChain(NftChain Chain, IReadOnlyList<NftRule> Rules);

/// <summary>A set or map with the elements it should hold: key to value (null in a set).</summary>
public sealed record PlannedSet(NftSet Set, IReadOnlyDictionary<string, string?> Elements);

/// <summary>
/// What the <c>podnet-policy</c> table should hold: the compiler's output and the syncer's
/// input. Also says, for explanations, which policies isolate each local pod.
/// </summary>
public sealed class PolicyPlan
{
    public Dictionary<string, PlannedChain> Chains { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, PlannedSet> Sets { get; } = new(StringComparer.Ordinal);

    /// <summary>Local pod key ("ns/name") to the policies ("ns/name") isolating it for ingress.</summary>
    public Dictionary<string, IReadOnlyList<string>> IngressIsolation { get; } = new(StringComparer.Ordinal);

    /// <summary>Local pod key to the policies isolating it for egress.</summary>
    public Dictionary<string, IReadOnlyList<string>> EgressIsolation { get; } = new(StringComparer.Ordinal);

    /// <summary>The whole table as one transaction: deleted and built again at once.</summary>
    public NftTransaction ToTransaction()
    {
        var table = PolicyNames.Table;
        var tx = new NftTransaction().Add(table).Delete(table).Add(table);
        foreach (var set in Sets.Values.OrderBy(s => s.Set.Name, StringComparer.Ordinal))
        {
            tx.Add(table, set.Set);
        }
        foreach (var chain in Chains.Values.OrderBy(c => c.Chain.Name, StringComparer.Ordinal))
        {
            tx.Add(table, chain.Chain);
        }
        foreach (var chain in Chains.Values.OrderBy(c => c.Chain.Name, StringComparer.Ordinal))
        {
            foreach (var rule in chain.Rules)
            {
                tx.Add(table, rule);
            }
        }
        foreach (var set in Sets.Values.OrderBy(s => s.Set.Name, StringComparer.Ordinal))
        {
            foreach (var (key, value) in set.Elements.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                tx.AddElement(table, set.Set.Name, key, value);
            }
        }
        return tx;
    }
}
