using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>A planned sync: the transaction to apply, and what to do once it has applied.</summary>
public sealed class PolicyChange(NftTransaction transaction, Action commit)
{
    public NftTransaction Transaction { get; } = transaction;

    /// <summary>Records the plan as the kernel's state; call only after the transaction applied.</summary>
    public void Commit() => commit();
}

/// <summary>
/// Turns plans into transactions for the <c>podnet-policy</c> table, remembering the plan it
/// last committed so that a change becomes the difference only: elements added and deleted,
/// chains whose rules differ flushed and filled again, chains and sets no longer used deleted.
/// The first sync, and any sync after a failed one, rebuilds the table in one transaction.
/// </summary>
/// <remarks>
/// Order within a transaction: new sets and chains first (so rules and verdicts can name
/// them), then element deletions (so a verdict map no longer jumps to a chain about to go),
/// then rules, then element additions, then the deletion of unused chains and sets, once
/// nothing refers to them.
/// </remarks>
public sealed class PolicySyncer
{
    private PolicyPlan? _committed;

    /// <summary>Whether the next sync rebuilds the table.</summary>
    public bool NeedsFullSync => _committed is null;

    /// <summary>The plan the kernel holds (null before the first commit or after a failure).</summary>
    public PolicyPlan? Committed => _committed;

    /// <summary>The next sync is full (call after a failed transaction).</summary>
    public void Invalidate() => _committed = null;

    public PolicyChange Plan(PolicyPlan desired)
    {
        var tx = _committed is null ? desired.ToTransaction() : Diff(_committed, desired);
        return new PolicyChange(tx, () => _committed = desired);
    }

    private static NftTransaction Diff(PolicyPlan old, PolicyPlan desired)
    {
        var table = PolicyNames.Table;
        var tx = new NftTransaction();
        foreach (var set in desired.Sets.Values.Where(s => !old.Sets.ContainsKey(s.Set.Name) || old.Sets[s.Set.Name].Set != s.Set))
        {
            if (old.Sets.ContainsKey(set.Set.Name))
            {
                throw new InvalidOperationException($"set {set.Set.Name} changed its type: plans must name sets by what they hold");
            }
            tx.Add(table, set.Set);
        }
        foreach (var chain in desired.Chains.Values.Where(c => !old.Chains.ContainsKey(c.Chain.Name)))
        {
            tx.Add(table, chain.Chain);
        }
        foreach (var (name, set) in old.Sets)
        {
            var wanted = desired.Sets.GetValueOrDefault(name)?.Elements;
            foreach (var (key, value) in set.Elements)
            {
                if (wanted is not null && (!wanted.TryGetValue(key, out var now) || now != value))
                {
                    tx.DeleteElement(table, name, key);
                }
            }
        }
        foreach (var chain in desired.Chains.Values)
        {
            var before = old.Chains.GetValueOrDefault(chain.Chain.Name);
            if (before is not null && before.Rules.SequenceEqual(chain.Rules))
            {
                continue;
            }
            if (before is not null)
            {
                tx.Flush(table, chain.Chain);
            }
            foreach (var rule in chain.Rules)
            {
                tx.Add(table, rule);
            }
        }
        foreach (var gone in old.Chains.Values.Where(c => !desired.Chains.ContainsKey(c.Chain.Name)))
        {
            tx.Flush(table, gone.Chain);
        }
        foreach (var (name, set) in desired.Sets)
        {
            var had = old.Sets.GetValueOrDefault(name)?.Elements;
            foreach (var (key, value) in set.Elements.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                if (had is null || !had.TryGetValue(key, out var before) || before != value)
                {
                    tx.AddElement(table, name, key, value);
                }
            }
        }
        foreach (var gone in old.Chains.Values.Where(c => !desired.Chains.ContainsKey(c.Chain.Name)))
        {
            tx.Delete(table, gone.Chain);
        }
        foreach (var gone in old.Sets.Values.Where(s => !desired.Sets.ContainsKey(s.Set.Name)))
        {
            tx.Delete(table, gone.Set);
        }
        return tx;
    }
}
