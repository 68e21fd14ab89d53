using System.Text;

namespace Podnet.Core.Nft;

public enum NftVerb
{
    Add,
    Flush,
    Delete,
}

/// <summary>
/// One command of a transaction: a verb on a table or on an object in it. The object is null for
/// the table itself, else an <see cref="NftChain"/>, <see cref="NftSet"/>, <see cref="NftRule"/>
/// or <see cref="NftElement"/>.
/// </summary>
public sealed record NftCommand(NftVerb Verb, NftTable Table, object? Object)
{
    public override string ToString() => NftText.Render(this);
}

/// <summary>
/// An nftables transaction as data: typed commands that <c>nft -f -</c> applies atomically
/// (all or nothing). Planners build it; only a runner applies it. Rendered to nft's syntax in
/// one place, <see cref="NftText"/>, one command per line in the order given.
/// </summary>
/// <remarks>
/// The verbs are the ones that keep a transaction idempotent where nft allows it: "add" of a
/// table, chain or set that exists changes nothing, "flush" empties, "delete" removes (and fails,
/// aborting the whole transaction, when the object is missing or still referenced — nft 1.0.6 has
/// no "destroy"). Rules have no identity of their own here: a chain's rules are replaced by
/// flushing the chain and adding them again, as kube-proxy does.
/// </remarks>
public sealed class NftTransaction
{
    private readonly List<NftCommand> _operations = [];

    public IReadOnlyList<NftCommand> Operations => _operations;

    /// <summary>The commands as nft lines.</summary>
    public IReadOnlyList<string> Commands => _operations.Select(NftText.Render).ToArray();

    public bool IsEmpty => _operations.Count == 0;

    public NftTransaction Add(NftTable table) => Append(NftVerb.Add, table, null);

    public NftTransaction Add(NftTable table, NftChain chain) => Append(NftVerb.Add, table, chain);

    public NftTransaction Add(NftTable table, NftSet set) => Append(NftVerb.Add, table, set);

    public NftTransaction Add(NftTable table, NftRule rule) => Append(NftVerb.Add, table, rule);

    public NftTransaction Add(NftTable table, NftElement element) => Append(NftVerb.Add, table, element);

    /// <summary>Adds a rule to <paramref name="chain"/>: shorthand for <see cref="Add(NftTable, NftRule)"/>.</summary>
    public NftTransaction AddRule(NftTable table, string chain, string text, string? comment = null) =>
        Add(table, new NftRule(chain, text, comment));

    /// <summary>Adds an element to a set (no value) or a map.</summary>
    public NftTransaction AddElement(NftTable table, string set, string key, string? value = null, TimeSpan? timeout = null) =>
        Add(table, new NftElement(set, key, value, timeout));

    /// <summary>Flushes every chain's rules (sets and maps keep their elements, as nft does).</summary>
    public NftTransaction Flush(NftTable table) => Append(NftVerb.Flush, table, null);

    public NftTransaction Flush(NftTable table, NftChain chain) => Append(NftVerb.Flush, table, chain);

    public NftTransaction Flush(NftTable table, NftSet set) => Append(NftVerb.Flush, table, set);

    public NftTransaction Delete(NftTable table) => Append(NftVerb.Delete, table, null);

    public NftTransaction Delete(NftTable table, NftChain chain) => Append(NftVerb.Delete, table, chain);

    public NftTransaction Delete(NftTable table, NftSet set) => Append(NftVerb.Delete, table, set);

    public NftTransaction Delete(NftTable table, NftElement element) => Append(NftVerb.Delete, table, element);

    public NftTransaction DeleteElement(NftTable table, string set, string key) => Delete(table, new NftElement(set, key));

    /// <summary>
    /// Starts from an empty <paramref name="table"/>: "add" makes it exist, "flush" empties its
    /// chains, so the rest of the transaction fully defines the rules (sets keep their elements:
    /// flush them too where the transaction re-adds them).
    /// </summary>
    public NftTransaction ReplaceTable(NftTable table) => Add(table).Flush(table);

    /// <summary>Appends every command of <paramref name="other"/>.</summary>
    public NftTransaction Append(NftTransaction other)
    {
        _operations.AddRange(other._operations);
        return this;
    }

    /// <summary>
    /// The transaction as nft's input. Consecutive additions to one set or map become one
    /// command of up to <see cref="ElementsPerCommand"/> elements: nft spends about as much on a
    /// command as on its elements, so a full proxy sync loads in half the time.
    /// </summary>
    public string ToScript()
    {
        var text = new StringBuilder();
        for (var i = 0; i < _operations.Count; i++)
        {
            var operation = _operations[i];
            if (operation is { Verb: NftVerb.Add, Object: NftElement first })
            {
                var run = 1;
                while (run < ElementsPerCommand && i + run < _operations.Count
                    && _operations[i + run] is { Verb: NftVerb.Add, Object: NftElement next } other && other.Table == operation.Table && next.Set == first.Set)
                {
                    run++;
                }
                if (run > 1)
                {
                    NftText.RenderElements(operation.Table, first.Set, _operations.Skip(i).Take(run).Select(o => (NftElement)o.Object!), text);
                    text.Append('\n');
                    i += run - 1;
                    continue;
                }
            }
            NftText.Render(operation, text);
            text.Append('\n');
        }
        return text.ToString();
    }

    public const int ElementsPerCommand = 1000;

    public override string ToString() => ToScript();

    private NftTransaction Append(NftVerb verb, NftTable table, object? target)
    {
        if (verb == NftVerb.Flush && target is NftRule or NftElement)
        {
            throw new ArgumentException("only tables, chains and sets are flushed", nameof(target));
        }
        if (verb == NftVerb.Delete && target is NftRule)
        {
            throw new ArgumentException("rules are removed by flushing their chain", nameof(target));
        }
        _operations.Add(new NftCommand(verb, table, target));
        return this;
    }
}
