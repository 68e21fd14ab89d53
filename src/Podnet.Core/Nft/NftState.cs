using System.Text;
using System.Text.RegularExpressions;

namespace Podnet.Core.Nft;

/// <summary>nftables refused a command; <see cref="Line"/> is its 1-based line in the transaction.</summary>
public sealed class NftStateException(string message, int line) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>
/// A ruleset held in memory: what the kernel would hold after the same transactions. Applies a
/// transaction atomically with the kernel's rules for each verb, as measured on nft 1.0.6 /
/// Linux 6.x: adding what exists is a no-op (but a chain or set with another hook or type, or a
/// map element with another value, is "File exists"); flush and delete of what is missing is
/// "No such file or directory"; deleting a chain or set still referenced by a rule or a
/// verdict-map element is "Device or resource busy"; a flushed table keeps its sets' elements.
/// Used by the fake runner in tests, by the packet tracer, and by anything that must explain a
/// planned ruleset without a kernel.
/// </summary>
public sealed partial class NftState
{
    private Dictionary<NftTable, TableState> _tables = [];

    public IEnumerable<TableState> Tables => _tables.Values;

    public TableState? Table(NftTable table) => _tables.GetValueOrDefault(table);

    /// <summary>Applies every command or none: on an error the state is as before and the exception names the line.</summary>
    public void Apply(NftTransaction transaction)
    {
        var next = _tables.ToDictionary(p => p.Key, p => p.Value.Clone());
        var line = 0;
        foreach (var command in transaction.Operations)
        {
            line++;
            try
            {
                Apply(next, command);
            }
            catch (NftStateException e)
            {
                throw new NftStateException($"line {line}: {NftText.Render(command)}: {e.Message}", line);
            }
        }
        _tables = next;
    }

    /// <summary>
    /// The state as text, sorted so that the order of commands that built it does not matter
    /// (tables, chains, sets and elements by name; rules in their order).
    /// </summary>
    public string Dump()
    {
        var text = new StringBuilder();
        foreach (var table in _tables.Values.OrderBy(t => NftText.Family(t.Table.Family), StringComparer.Ordinal).ThenBy(t => t.Table.Name, StringComparer.Ordinal))
        {
            table.Dump(text);
        }
        return text.ToString();
    }

    private static void Apply(Dictionary<NftTable, TableState> tables, NftCommand command)
    {
        if (command.Object is null)
        {
            switch (command.Verb)
            {
                case NftVerb.Add:
                    tables.TryAdd(command.Table, new TableState(command.Table));
                    break;
                case NftVerb.Flush:
                    foreach (var chain in Existing(tables, command.Table).Chains.Values)
                    {
                        chain.Rules.Clear();
                    }
                    break;
                default:
                    Existing(tables, command.Table);
                    tables.Remove(command.Table);
                    break;
            }
            return;
        }
        var t = Existing(tables, command.Table);
        switch (command.Object)
        {
            case NftChain chain:
                t.ApplyChain(command.Verb, chain);
                break;
            case NftSet set:
                t.ApplySet(command.Verb, set);
                break;
            case NftRule rule:
                t.AddRule(rule);
                break;
            case NftElement element:
                t.ApplyElement(command.Verb, element);
                break;
        }
    }

    private static TableState Existing(Dictionary<NftTable, TableState> tables, NftTable table) =>
        tables.GetValueOrDefault(table) ?? throw new NftStateException("No such file or directory (no such table)", 0);

    /// <summary>The chains a rule or a verdict jumps or goes to.</summary>
    internal static IEnumerable<string> ChainReferences(string text) => ChainReference().Matches(text).Select(m => m.Groups[1].Value);

    /// <summary>The named sets and maps a rule looks up.</summary>
    internal static IEnumerable<string> SetReferences(string text) => SetReference().Matches(text).Select(m => m.Groups[1].Value);

    [GeneratedRegex(@"\b(?:jump|goto)\s+([A-Za-z][A-Za-z0-9_\-./]*)")]
    private static partial Regex ChainReference();

    [GeneratedRegex(@"@([A-Za-z][A-Za-z0-9_\-./]*)")]
    private static partial Regex SetReference();
}

public sealed class TableState(NftTable table)
{
    public NftTable Table { get; } = table;

    public Dictionary<string, ChainState> Chains { get; private init; } = new(StringComparer.Ordinal);

    public Dictionary<string, SetState> Sets { get; private init; } = new(StringComparer.Ordinal);

    internal TableState Clone() => new(Table)
    {
        Chains = Chains.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal),
        Sets = Sets.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal),
    };

    internal void ApplyChain(NftVerb verb, NftChain chain)
    {
        switch (verb)
        {
            case NftVerb.Add:
                if (Chains.TryGetValue(chain.Name, out var existing))
                {
                    if (chain.Hook is not null && existing.Chain.Hook != chain.Hook)
                    {
                        throw new NftStateException("File exists (the chain exists with another hook, type or priority)", 0);
                    }
                }
                else
                {
                    Chains[chain.Name] = new ChainState(chain);
                }
                break;
            case NftVerb.Flush:
                ChainOf(chain.Name).Rules.Clear();
                break;
            default:
                ChainOf(chain.Name);
                if (ChainReferrers(chain.Name).Any())
                {
                    throw new NftStateException("Device or resource busy (the chain is still referenced)", 0);
                }
                Chains.Remove(chain.Name);
                break;
        }
    }

    internal void ApplySet(NftVerb verb, NftSet set)
    {
        switch (verb)
        {
            case NftVerb.Add:
                if (Sets.TryGetValue(set.Name, out var existing))
                {
                    if (existing.Set.Type != set.Type || existing.Set.Value != set.Value || existing.Set.Flags != set.Flags || existing.Set.TypeOf != set.TypeOf)
                    {
                        throw new NftStateException("File exists (the set exists with another type or flags)", 0);
                    }
                }
                else
                {
                    Sets[set.Name] = new SetState(set);
                }
                break;
            case NftVerb.Flush:
                SetOf(set.Name).Elements.Clear();
                break;
            default:
                SetOf(set.Name);
                if (Chains.Values.SelectMany(c => c.Rules).Any(r => NftState.SetReferences(r.Text).Contains(set.Name, StringComparer.Ordinal)))
                {
                    throw new NftStateException("Device or resource busy (the set is still referenced)", 0);
                }
                Sets.Remove(set.Name);
                break;
        }
    }

    internal void AddRule(NftRule rule)
    {
        var chain = ChainOf(rule.Chain);
        foreach (var target in NftState.ChainReferences(rule.Text))
        {
            ChainOf(target);
        }
        foreach (var set in NftState.SetReferences(rule.Text))
        {
            SetOf(set);
        }
        chain.Rules.Add(rule);
    }

    internal void ApplyElement(NftVerb verb, NftElement element)
    {
        var set = SetOf(element.Set);
        var key = Normalize(element.Key);
        if (verb == NftVerb.Delete)
        {
            if (!set.Elements.Remove(key))
            {
                throw new NftStateException("No such file or directory (no such element)", 0);
            }
            return;
        }
        if (set.Set.IsMap != element.Value is not null)
        {
            throw new NftStateException(set.Set.IsMap ? "a map element needs a value" : "a set element has no value", 0);
        }
        if (element.Value is not null)
        {
            foreach (var target in NftState.ChainReferences(element.Value))
            {
                ChainOf(target);
            }
        }
        if (set.Elements.TryGetValue(key, out var existing))
        {
            if (existing.Value != element.Value)
            {
                throw new NftStateException("File exists (the key maps to another value)", 0);
            }
            return;
        }
        set.Elements[key] = element with { Key = key };
    }

    internal void Dump(StringBuilder text)
    {
        text.Append("table ").Append(Table).Append('\n');
        foreach (var chain in Chains.Values.OrderBy(c => c.Chain.Name, StringComparer.Ordinal))
        {
            text.Append("  chain ").Append(chain.Chain.Name);
            if (chain.Chain.Hook is { } hook)
            {
                text.Append(" { type ").Append(NftText.ChainType(hook.Type)).Append(" hook ").Append(NftText.Hook(hook.Hook))
                    .Append(" priority ").Append(hook.Priority).Append(" ; policy ").Append(hook.DropPolicy ? "drop" : "accept").Append(" ; }");
            }
            text.Append('\n');
            foreach (var rule in chain.Rules)
            {
                text.Append("    ").Append(rule.Text);
                if (rule.Comment is not null)
                {
                    text.Append(" comment ").Append(NftText.Quote(rule.Comment));
                }
                text.Append('\n');
            }
        }
        foreach (var set in Sets.Values.OrderBy(s => s.Set.Name, StringComparer.Ordinal))
        {
            var s = set.Set;
            text.Append(s.IsMap ? "  map " : "  set ").Append(s.Name).Append(s.TypeOf ? " { typeof " : " { type ").Append(s.Type);
            if (s.Value is not null)
            {
                text.Append(" : ").Append(s.Value);
            }
            text.Append(" ;");
            if (s.Flags != NftSetFlags.None)
            {
                text.Append(" flags ").Append(NftText.Flags(s.Flags)).Append(" ;");
            }
            if (s.Timeout is { } timeout)
            {
                text.Append(" timeout ").Append(NftText.Duration(timeout)).Append(" ;");
            }
            text.Append(" }\n");
            foreach (var element in set.Elements.Values.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                text.Append("    ").Append(element.Key);
                if (element.Value is not null)
                {
                    text.Append(" : ").Append(element.Value);
                }
                text.Append('\n');
            }
        }
    }

    /// <summary>Keys compare as nft prints them: single spaces between tokens ("10.96.0.1 . tcp . 80").</summary>
    internal static string Normalize(string key) => string.Join(' ', key.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private IEnumerable<string> ChainReferrers(string name) =>
        Chains.Values.Where(c => c.Rules.Any(r => NftState.ChainReferences(r.Text).Contains(name, StringComparer.Ordinal))).Select(c => c.Chain.Name)
            .Concat(Sets.Values.Where(s => s.Set.IsVerdictMap && s.Elements.Values.Any(e => NftState.ChainReferences(e.Value!).Contains(name, StringComparer.Ordinal))).Select(s => s.Set.Name));

    private ChainState ChainOf(string name) =>
        Chains.GetValueOrDefault(name) ?? throw new NftStateException($"No such file or directory (no chain {name})", 0);

    private SetState SetOf(string name) =>
        Sets.GetValueOrDefault(name) ?? throw new NftStateException($"No such file or directory (no set or map {name})", 0);
}

public sealed class ChainState(NftChain chain)
{
    public NftChain Chain { get; } = chain;

    public List<NftRule> Rules { get; private init; } = [];

    internal ChainState Clone() => new(Chain) { Rules = [.. Rules] };
}

public sealed class SetState(NftSet set)
{
    public NftSet Set { get; } = set;

    public Dictionary<string, NftElement> Elements { get; private init; } = new(StringComparer.Ordinal);

    internal SetState Clone() => new(Set) { Elements = new Dictionary<string, NftElement>(Elements, StringComparer.Ordinal) };
}
