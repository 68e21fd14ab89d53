using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Proxy;

/// <summary>A planned sync: the transaction to apply, and what to do once it has applied.</summary>
public sealed class ProxyChange(NftTransaction transaction, IReadOnlyList<UdpPort> staleUdp, Action commit)
{
    public NftTransaction Transaction { get; } = transaction;

    /// <summary>UDP destinations whose serving endpoints changed: their conntrack entries to anything else are stale.</summary>
    public IReadOnlyList<UdpPort> StaleUdp { get; } = staleUdp;

    /// <summary>Records the change as the kernel's state; call only after the transaction applied.</summary>
    public void Commit() => commit();
}

/// <summary>
/// Turns Services and EndpointSlices into transactions for one family's table, remembering what
/// it committed so that a change to one Service becomes a transaction about that Service only
/// (its elements added or deleted, its chains replaced) and the table is never listed. The
/// first sync, and any sync after a failed one, is full: the table is deleted and built again
/// in the same transaction, so the kernel goes from the old ruleset to the new one at once.
/// </summary>
/// <remarks>
/// Within a transaction every deletion comes before every addition, so that an address or
/// NodePort moving from one Service to another in the same batch is never added twice.
/// Shared objects (the balance chain of an endpoint count, the hairpin element of an endpoint
/// address) are counted by reference and go when their last user does.
/// </remarks>
public sealed class ProxySyncer(ProxyNode node)
{
    private Dictionary<string, ServiceFragment> _committed = new(StringComparer.Ordinal);
    private Dictionary<string, int> _chainRefs = new(StringComparer.Ordinal);
    private Dictionary<ElementSpec, int> _elementRefs = [];
    private bool _full = true;

    public ProxyNode Node { get; private set; } = node;

    /// <summary>Whether the next sync rebuilds the table (at start, after a failure, after the node changed).</summary>
    public bool NeedsFullSync => _full;

    /// <summary>Number of Services with a fragment committed.</summary>
    public int Services => _committed.Count;

    /// <summary>Elements committed for Services (shared ones once).</summary>
    public int Elements => _committed.Values.Sum(f => f.Elements.Count) + _elementRefs.Count;

    /// <summary>Endpoints committed: slot elements and affinity endpoints, per Service port and ClusterIP.</summary>
    public int Endpoints => _committed.Values.Sum(f => f.Elements.Count(e => e.Set.StartsWith("slot-", StringComparison.Ordinal)) + f.Chains.Count(c => c.Name.StartsWith("ep-", StringComparison.Ordinal)));

    /// <summary>The next sync is full (call after a failed transaction).</summary>
    public void Invalidate() => _full = true;

    /// <summary>The node's addresses or CIDRs changed: rebuild on the next sync.</summary>
    public void SetNode(ProxyNode updated)
    {
        if (updated != Node)
        {
            Node = updated;
            _full = true;
        }
    }

    /// <summary>
    /// Plans a sync. <paramref name="dirty"/> are the keys ("namespace/name") of Services whose
    /// object or slices changed, or null for all; a full sync is made when one is due whatever
    /// is dirty. <paramref name="allKeys"/> is read only for a full sync.
    /// </summary>
    public ProxyChange Plan(Func<string, ServiceInfo?> service, Func<string, IReadOnlyList<EndpointSliceInfo>> slices, Func<IEnumerable<string>> allKeys, IReadOnlySet<string>? dirty)
    {
        if (_full || dirty is null)
        {
            return PlanFull(service, slices, allKeys());
        }
        var changes = new List<(string Key, ServiceFragment Old, ServiceFragment New)>();
        foreach (var key in dirty)
        {
            var old = _committed.GetValueOrDefault(key) ?? ServiceFragment.Empty;
            var fresh = service(key) is { } info ? ServicePlanner.Plan(info, slices(key), Node) : ServiceFragment.Empty;
            if (!Same(old, fresh))
            {
                changes.Add((key, old, fresh));
            }
        }
        return PlanPartial(changes);
    }

    private ProxyChange PlanFull(Func<string, ServiceInfo?> service, Func<string, IReadOnlyList<EndpointSliceInfo>> slices, IEnumerable<string> keys)
    {
        var table = Node.Table;
        var fragments = new Dictionary<string, ServiceFragment>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (service(key) is { } info)
            {
                var fragment = ServicePlanner.Plan(info, slices(key), Node);
                if (!ReferenceEquals(fragment, ServiceFragment.Empty))
                {
                    fragments[key] = fragment;
                }
            }
        }
        var chainRefs = new Dictionary<string, int>(StringComparer.Ordinal);
        var elementRefs = new Dictionary<ElementSpec, int>();
        var sharedChains = new Dictionary<string, ChainSpec>(StringComparer.Ordinal);
        var sharedSets = new Dictionary<string, NftSet>(StringComparer.Ordinal);
        foreach (var fragment in fragments.Values)
        {
            foreach (var chain in fragment.SharedChains)
            {
                chainRefs[chain.Name] = chainRefs.GetValueOrDefault(chain.Name) + 1;
                sharedChains[chain.Name] = chain;
            }
            foreach (var set in fragment.SharedSets)
            {
                sharedSets[set.Name] = set;
            }
            foreach (var element in fragment.SharedElements)
            {
                elementRefs[element] = elementRefs.GetValueOrDefault(element) + 1;
            }
        }
        var tx = new NftTransaction().Add(table).Delete(table).Add(table);
        var skeleton = ProxySkeleton.Chains(Node).ToArray();
        var chains = sharedChains.Values.OrderBy(c => c.Name, StringComparer.Ordinal).Concat(fragments.Values.SelectMany(f => f.Chains)).ToArray();
        foreach (var (chain, _) in skeleton)
        {
            tx.Add(table, chain);
        }
        foreach (var chain in chains)
        {
            tx.Add(table, new NftChain(chain.Name));
        }
        foreach (var set in ProxySkeleton.Sets(Node).Concat(sharedSets.Values.OrderBy(m => m.Name, StringComparer.Ordinal)).Concat(fragments.Values.SelectMany(f => f.Sets)))
        {
            tx.Add(table, set);
        }
        foreach (var (chain, rules) in skeleton)
        {
            AddRules(tx, chain.Name, rules);
        }
        foreach (var chain in chains)
        {
            AddRules(tx, chain.Name, chain.Rules);
        }
        // Grouped by set, so that the script adds them a thousand to a command.
        foreach (var element in ProxySkeleton.NodeElements(Node).Concat(elementRefs.Keys).Concat(fragments.Values.SelectMany(f => f.Elements)).OrderBy(e => e.Set, StringComparer.Ordinal))
        {
            tx.AddElement(table, element.Set, element.Key, element.Value);
        }
        var udp = fragments.Values.SelectMany(f => f.UdpPorts).ToArray();
        return new ProxyChange(tx, udp, () =>
        {
            _committed = fragments;
            _chainRefs = chainRefs;
            _elementRefs = elementRefs;
            _full = false;
        });
    }

    private ProxyChange PlanPartial(List<(string Key, ServiceFragment Old, ServiceFragment New)> changes)
    {
        var table = Node.Table;
        var tx = new NftTransaction();
        var chainRefs = new Dictionary<string, int>(_chainRefs, StringComparer.Ordinal);
        var elementRefs = new Dictionary<ElementSpec, int>(_elementRefs);
        var deletes = new List<ElementSpec>();
        var adds = new List<ElementSpec>();
        var chainsToAdd = new List<ChainSpec>();
        var rulesToSet = new List<ChainSpec>();
        var chainsToRemove = new List<string>();
        var setsToAdd = new List<NftSet>();
        var setsToRemove = new List<NftSet>();
        var sharedToAdd = new Dictionary<string, ChainSpec>(StringComparer.Ordinal);
        var udp = new List<UdpPort>();
        foreach (var (_, old, fresh) in changes)
        {
            DiffElements(old.Elements, fresh.Elements, deletes, adds);
            foreach (var chain in fresh.Chains)
            {
                var before = old.Chains.FirstOrDefault(c => c.Name == chain.Name);
                if (before is null)
                {
                    chainsToAdd.Add(chain);
                    rulesToSet.Add(chain);
                }
                else if (!before.SameAs(chain))
                {
                    rulesToSet.Add(chain);
                }
            }
            chainsToRemove.AddRange(old.Chains.Select(c => c.Name).Except(fresh.Chains.Select(c => c.Name), StringComparer.Ordinal));
            setsToAdd.AddRange(fresh.Sets.Where(s => !old.Sets.Any(o => o.Name == s.Name)));
            setsToRemove.AddRange(old.Sets.Where(s => !fresh.Sets.Any(n => n.Name == s.Name)));
            foreach (var chain in old.SharedChains)
            {
                chainRefs[chain.Name]--;
            }
            foreach (var chain in fresh.SharedChains)
            {
                chainRefs[chain.Name] = chainRefs.GetValueOrDefault(chain.Name) + 1;
                sharedToAdd[chain.Name] = chain;
            }
            foreach (var element in old.SharedElements)
            {
                elementRefs[element]--;
            }
            foreach (var element in fresh.SharedElements)
            {
                elementRefs[element] = elementRefs.GetValueOrDefault(element) + 1;
            }
            udp.AddRange(fresh.UdpPorts.Where(p => !old.UdpPorts.Any(o => o.SameAs(p))));
        }
        // Shared objects appear when first used and go with their last user.
        var newShared = sharedToAdd.Values.Where(c => !_chainRefs.TryGetValue(c.Name, out var n) || n == 0).OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
        var goneShared = chainRefs.Where(p => p.Value == 0).Select(p => p.Key).Where(_chainRefs.ContainsKey).ToArray();
        var goneSlotMaps = goneShared.Where(n => n.Contains("slot-", StringComparison.Ordinal))
            .Select(n => changes.SelectMany(c => c.Old.SharedSets).First(m => m.Name == n)).ToArray();
        var newElements = elementRefs.Where(p => p.Value > 0 && _elementRefs.GetValueOrDefault(p.Key) == 0).Select(p => p.Key).ToArray();
        var goneElements = elementRefs.Where(p => p.Value == 0 && _elementRefs.GetValueOrDefault(p.Key) > 0).Select(p => p.Key).ToArray();

        var sharedSets = changes.SelectMany(c => c.New.SharedSets).DistinctBy(m => m.Name).ToDictionary(m => m.Name, StringComparer.Ordinal);
        foreach (var chain in newShared.Concat(chainsToAdd))
        {
            tx.Add(table, new NftChain(chain.Name));
        }
        // A slot's map has its chain's name and lives exactly as long.
        foreach (var set in newShared.Where(c => sharedSets.ContainsKey(c.Name)).Select(c => sharedSets[c.Name]).Concat(setsToAdd))
        {
            tx.Add(table, set);
        }
        foreach (var chain in newShared)
        {
            AddRules(tx, chain.Name, chain.Rules);
        }
        foreach (var chain in rulesToSet)
        {
            tx.Flush(table, new NftChain(chain.Name));
            AddRules(tx, chain.Name, chain.Rules);
        }
        foreach (var element in deletes.Concat(goneElements))
        {
            tx.DeleteElement(table, element.Set, element.Key);
        }
        foreach (var element in adds.Concat(newElements).OrderBy(e => e.Set, StringComparer.Ordinal))
        {
            tx.AddElement(table, element.Set, element.Key, element.Value);
        }
        foreach (var chain in chainsToRemove)
        {
            tx.Flush(table, new NftChain(chain));
        }
        // External balance chains go before the balance chains they jump to, those before the
        // slot chains, slot chains before their maps.
        foreach (var chain in chainsToRemove.Concat(goneShared.OrderBy(n => n.StartsWith("external-", StringComparison.Ordinal) ? 0 : n.Contains("slot-", StringComparison.Ordinal) ? 2 : 1)))
        {
            tx.Delete(table, new NftChain(chain));
        }
        foreach (var set in setsToRemove.Concat(goneSlotMaps))
        {
            tx.Delete(table, set);
        }
        return new ProxyChange(tx, udp, () =>
        {
            foreach (var (key, _, fresh) in changes)
            {
                if (ReferenceEquals(fresh, ServiceFragment.Empty))
                {
                    _committed.Remove(key);
                }
                else
                {
                    _committed[key] = fresh;
                }
            }
            foreach (var gone in chainRefs.Where(p => p.Value == 0).Select(p => p.Key).ToArray())
            {
                chainRefs.Remove(gone);
            }
            foreach (var gone in elementRefs.Where(p => p.Value == 0).Select(p => p.Key).ToArray())
            {
                elementRefs.Remove(gone);
            }
            _chainRefs = chainRefs;
            _elementRefs = elementRefs;
        });
    }

    /// <summary>Elements gone or changed are deleted; new or changed ones added (a changed value is a delete and an add).</summary>
    private static void DiffElements(IReadOnlyList<ElementSpec> old, IReadOnlyList<ElementSpec> fresh, List<ElementSpec> deletes, List<ElementSpec> adds)
    {
        var before = old.ToDictionary(e => (e.Set, e.Key));
        foreach (var element in fresh)
        {
            if (before.Remove((element.Set, element.Key), out var was))
            {
                if (was.Value != element.Value)
                {
                    deletes.Add(was);
                    adds.Add(element);
                }
            }
            else
            {
                adds.Add(element);
            }
        }
        deletes.AddRange(before.Values);
    }

    private static bool Same(ServiceFragment a, ServiceFragment b) =>
        a.Elements.SequenceEqual(b.Elements)
        && a.Chains.Count == b.Chains.Count && a.Chains.Zip(b.Chains).All(p => p.First.SameAs(p.Second))
        && a.Sets.SequenceEqual(b.Sets)
        && a.SharedChains.Select(c => c.Name).SequenceEqual(b.SharedChains.Select(c => c.Name))
        && a.SharedSets.SequenceEqual(b.SharedSets)
        && a.SharedElements.SequenceEqual(b.SharedElements)
        && a.UdpPorts.Count == b.UdpPorts.Count && a.UdpPorts.Zip(b.UdpPorts).All(p => p.First.SameAs(p.Second));

    private void AddRules(NftTransaction tx, string chain, IEnumerable<string> rules)
    {
        foreach (var rule in rules)
        {
            tx.AddRule(Node.Table, chain, rule);
        }
    }
}
