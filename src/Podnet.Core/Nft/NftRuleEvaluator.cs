using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Podnet.Core.Nft;

internal enum OutcomeKind
{
    NoMatch,
    Continue,
    Accept,
    Drop,
    Reject,
    Return,
    Jump,
    Goto,
}

internal sealed record Outcome(OutcomeKind Kind, string? Chain = null, string? RejectWith = null, NftTracePoint? Point = null)
{
    public static readonly Outcome NoMatch = new(OutcomeKind.NoMatch);

    public static readonly Outcome Continue = new(OutcomeKind.Continue);

    public static readonly Outcome Return = new(OutcomeKind.Return);
}

/// <summary>
/// Reads one rule left to right, as nft evaluates it: each match either holds or ends the rule
/// (no match), each statement acts on the packet, a verdict ends it. The syntax understood is
/// what Podnet's planners write (see the cases below); anything else throws.
/// </summary>
internal sealed class NftRuleEvaluator(NftTracer.IRun run, TableState table, NftTracer.PacketState p, NftTracePoint point)
{
    private List<string> _t = [];
    private int _i;

    public Outcome Evaluate(string text)
    {
        _t = NftTokens.Split(text);
        _i = 0;
        while (_i < _t.Count)
        {
            var word = _t[_i];
            switch (word)
            {
                case "accept":
                    return new Outcome(OutcomeKind.Accept, Point: point);
                case "drop":
                    return new Outcome(OutcomeKind.Drop, Point: point);
                case "return":
                    return Outcome.Return;
                case "continue":
                    return Outcome.Continue;
                case "jump":
                case "goto":
                    return new Outcome(word == "jump" ? OutcomeKind.Jump : OutcomeKind.Goto, Chain: _t[_i + 1], Point: point);
                case "reject":
                    return Reject();
                case "counter":
                    _i++;
                    SkipPairs("packets", "bytes");
                    continue;
                case "log":
                    _i++;
                    SkipPairs("prefix", "group", "level", "flags", "snaplen", "queue-threshold");
                    continue;
                case "masquerade":
                    _i++;
                    while (_i < _t.Count && _t[_i] is "fully-random" or "random" or "persistent")
                    {
                        _i++;
                    }
                    p.Masqueraded = true;
                    p.Translated++;
                    // NAT statements end the rule and accept in this chain, as in the kernel.
                    return new Outcome(OutcomeKind.Accept, Point: point);
                case "dnat":
                case "snat":
                    if (!Nat(word))
                    {
                        // A NAT map without the packet's key: the rule does not match.
                        return Outcome.NoMatch;
                    }
                    return new Outcome(OutcomeKind.Accept, Point: point);
                case "update":
                case "add" when _i + 1 < _t.Count && _t[_i + 1].StartsWith('@'):
                    SetUpdate();
                    continue;
                case "notrack":
                    _i++;
                    continue;
            }
            if (IsMarkSet())
            {
                continue;
            }
            // An expression: a match, a verdict-map lookup or a set membership test.
            var values = Expression();
            if (values is null)
            {
                return Outcome.NoMatch;
            }
            if (_i < _t.Count && _t[_i] == "vmap")
            {
                _i++;
                var verdict = Lookup(values);
                if (verdict is null)
                {
                    return Outcome.NoMatch;
                }
                var v = NftTokens.Split(verdict);
                return v[0] switch
                {
                    "accept" => new Outcome(OutcomeKind.Accept, Point: point),
                    "drop" => new Outcome(OutcomeKind.Drop, Point: point),
                    "return" => Outcome.Return,
                    "continue" => Outcome.Continue,
                    "jump" => new Outcome(OutcomeKind.Jump, Chain: v[1], Point: point),
                    "goto" => new Outcome(OutcomeKind.Goto, Chain: v[1], Point: point),
                    _ => throw Unsupported($"verdict {verdict}"),
                };
            }
            if (!Compare(values))
            {
                return Outcome.NoMatch;
            }
        }
        return Outcome.Continue;
    }

    private Outcome Reject()
    {
        _i++;
        string? with = null;
        if (_i < _t.Count && _t[_i] == "with")
        {
            with = string.Join(' ', _t.Skip(_i + 1).Take(_t[_i + 1] == "tcp" ? 2 : _t.Count > _i + 2 && _t[_i + 2] == "type" ? 3 : 2));
        }
        return new Outcome(OutcomeKind.Reject, RejectWith: with, Point: point);
    }

    private void SkipPairs(params string[] keys)
    {
        while (_i < _t.Count && keys.Contains(_t[_i]))
        {
            _i += 2;
        }
    }

    /// <summary><c>meta mark set meta mark | 0x4000</c>, <c>meta mark set 0x1</c> and the ^ and &amp; forms.</summary>
    private bool IsMarkSet()
    {
        var start = _i;
        if (_t[_i] == "meta" && _i + 1 < _t.Count && _t[_i + 1] == "mark")
        {
            _i += 2;
        }
        else if (_t[_i] == "mark")
        {
            _i++;
        }
        else
        {
            return false;
        }
        if (_i >= _t.Count || _t[_i] != "set")
        {
            _i = start;
            return false;
        }
        _i++;
        uint value = p.Packet.Mark;
        if (_t[_i] is "meta" or "mark")
        {
            _i += _t[_i] == "meta" ? 2 : 1;
            var op = _t[_i];
            var operand = Number(_t[_i + 1]);
            _i += 2;
            value = op switch
            {
                "|" or "or" => value | operand,
                "^" or "xor" => value ^ operand,
                "&" or "and" => value & operand,
                _ => throw Unsupported($"mark operator {op}"),
            };
        }
        else
        {
            value = Number(_t[_i]);
            _i++;
        }
        p.Packet = p.Packet with { Mark = value };
        return true;
    }

    /// <summary>A NAT statement: ends the rule (the kernel accepts the packet in this chain), or false when its map has no element for the packet.</summary>
    private bool Nat(string kind)
    {
        _i++;
        if (_t[_i] is "ip" or "ip6")
        {
            _i++;
        }
        Expect("to");
        // "to ADDR[:PORT]" or "to EXPR map @m" / "to EXPR map { … }".
        string target;
        var mapAt = _t.IndexOf("map", _i);
        if (mapAt > 0 && (mapAt + 1 < _t.Count) && (_t[mapAt + 1].StartsWith('@') || _t[mapAt + 1] == "{"))
        {
            var key = Expression() ?? throw Unsupported("a NAT map key that does not apply to this packet");
            Expect("map");
            if (Lookup(key) is not { } found)
            {
                return false;
            }
            target = found;
        }
        else
        {
            target = _t[_i];
            _i++;
        }
        var (address, port) = Target(target);
        if (kind == "dnat")
        {
            p.Packet = p.Packet with { Destination = address, DestinationPort = port ?? p.Packet.DestinationPort, CtDnat = true };
        }
        else
        {
            p.SnatTo = address;
        }
        p.Translated++;
        return true;
    }

    private static (IPAddress Address, int? Port) Target(string target)
    {
        var parts = target.Split(" . ", StringSplitOptions.TrimEntries);
        if (parts.Length == 2)
        {
            return (IPAddress.Parse(parts[0]), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        var text = parts[0];
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            var address = IPAddress.Parse(text[1..close]);
            return (address, close + 2 < text.Length ? int.Parse(text[(close + 2)..], CultureInfo.InvariantCulture) : null);
        }
        if (text.Count(c => c == ':') == 1)
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return (IPAddress.Parse(text[..colon]), int.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
        }
        return (IPAddress.Parse(text), null);
    }

    private void SetUpdate()
    {
        _i++;
        var set = _t[_i][1..];
        _i++;
        Expect("{");
        var key = Expression() ?? throw Unsupported("a set update whose key does not apply to this packet");
        if (_t[_i] == "timeout")
        {
            _i += 2;
        }
        string? value = null;
        if (_t[_i] == ":")
        {
            _i++;
            value = Concatenated();
        }
        Expect("}");
        run.Update(table.Table, set, string.Join(" . ", key.Select(Format)), value);
    }

    /// <summary>
    /// Reads a selector or a concatenation of them ("ip daddr . meta l4proto . th dport") and
    /// gives their values for this packet, or null when a selector does not apply to it
    /// (an ip6 match on an IPv4 packet, a tcp port on a UDP packet).
    /// </summary>
    private List<object>? Expression()
    {
        var values = new List<object>();
        var applies = true;
        while (true)
        {
            var value = Selector();
            if (value is null)
            {
                applies = false;
            }
            else
            {
                values.Add(value);
            }
            if (_i < _t.Count && _t[_i] == ".")
            {
                _i++;
                continue;
            }
            return applies ? values : null;
        }
    }

    private object? Selector()
    {
        var packet = p.Packet;
        var word = _t[_i];
        var next = _i + 1 < _t.Count ? _t[_i + 1] : "";
        switch (word)
        {
            case "ip" or "ip6":
                _i += 2;
                var rightFamily = (word == "ip") == (packet.Destination.AddressFamily == AddressFamily.InterNetwork);
                if (!rightFamily)
                {
                    return null;
                }
                return next switch
                {
                    "saddr" => packet.Source,
                    "daddr" => packet.Destination,
                    "protocol" or "nexthdr" => packet.Protocol,
                    _ => throw Unsupported($"{word} {next}"),
                };
            case "meta":
                _i += 2;
                return next switch
                {
                    "l4proto" => packet.Protocol,
                    "nfproto" => packet.IsIPv6 ? "ipv6" : "ipv4",
                    "mark" => Masked(packet.Mark),
                    "iifname" => packet.InputInterface ?? "",
                    "oifname" => packet.OutputInterface ?? "",
                    _ => throw Unsupported($"meta {next}"),
                };
            case "mark":
                _i++;
                return Masked(packet.Mark);
            case "iifname":
                _i++;
                return packet.InputInterface ?? "";
            case "oifname":
                _i++;
                return packet.OutputInterface ?? "";
            case "tcp" or "udp" or "sctp" or "th":
                _i += 2;
                if (word == "th" ? packet.Protocol is not ("tcp" or "udp" or "sctp") : packet.Protocol != word)
                {
                    return null;
                }
                return next switch
                {
                    "dport" => packet.DestinationPort,
                    "sport" => packet.SourcePort,
                    _ => throw Unsupported($"{word} {next}"),
                };
            case "ct":
                _i += 2;
                return next switch
                {
                    "state" => packet.CtState.ToString().ToLowerInvariant(),
                    "status" => packet.CtDnat ? "dnat" : "none",
                    "direction" => packet.CtReply ? "reply" : "original",
                    _ => throw Unsupported($"ct {next}"),
                };
            case "fib":
                // fib daddr type / fib saddr type: local or not.
                var address = next == "daddr" ? packet.Destination : next == "saddr" ? packet.Source : throw Unsupported($"fib {next}");
                _i += 3;
                return run.IsLocal(address) ? "local" : "unicast";
            case "numgen":
                // numgen random mod N [offset M]
                var modulus = (int)Number(_t[_i + 3]);
                _i += 4;
                var offset = 0;
                if (_i < _t.Count && _t[_i] == "offset")
                {
                    offset = (int)Number(_t[_i + 1]);
                    _i += 2;
                }
                return (uint)(run.Draw(modulus) + offset);
            default:
                throw Unsupported($"expression \"{word}\"");
        }
    }

    /// <summary>"meta mark &amp; 0x4000" reads the masked mark.</summary>
    private object Masked(uint mark)
    {
        if (_i < _t.Count && _t[_i] is "&" or "and")
        {
            var mask = Number(_t[_i + 1]);
            _i += 2;
            return mark & mask;
        }
        return mark;
    }

    /// <summary>After an expression: [== | !=] then a value, a { list } or an @set.</summary>
    private bool Compare(List<object> values)
    {
        var negate = false;
        if (_i < _t.Count && _t[_i] is "<" or ">" or "<=" or ">=")
        {
            var op = _t[_i];
            var bound = Number(_t[_i + 1]);
            _i += 2;
            var actual = values.Count == 1 && values[0] is uint u ? u : values.Count == 1 && values[0] is int n ? (uint)n : throw Unsupported($"{op} on a value that is not a number");
            return op switch
            {
                "<" => actual < bound,
                ">" => actual > bound,
                "<=" => actual <= bound,
                _ => actual >= bound,
            };
        }
        if (_i < _t.Count && _t[_i] is "==" or "!=")
        {
            negate = _t[_i] == "!=";
            _i++;
        }
        bool found;
        if (_t[_i].StartsWith('@'))
        {
            var set = Set(_t[_i][1..]);
            _i++;
            found = set.Elements.Values.Any(e => KeyMatches(values, e.Key));
        }
        else if (_t[_i] == "{")
        {
            _i++;
            found = false;
            foreach (var key in ListItems())
            {
                found |= KeyMatches(values, key);
            }
        }
        else
        {
            // A single value, or a bare comma list ("ct state established,related").
            var items = new List<string> { Concatenated() };
            while (_i < _t.Count && _t[_i] == ",")
            {
                _i++;
                items.Add(Concatenated());
            }
            found = items.Any(k => KeyMatches(values, k));
        }
        return found != negate;
    }

    /// <summary>The items of a { … } list up to its closing brace, each possibly a concatenation.</summary>
    private List<string> ListItems()
    {
        var items = new List<string>();
        while (_t[_i] != "}")
        {
            items.Add(Concatenated());
            if (_t[_i] == ",")
            {
                _i++;
            }
        }
        _i++;
        return items;
    }

    /// <summary>Reads "a . b . c" as one key text.</summary>
    private string Concatenated()
    {
        var parts = new List<string> { _t[_i++] };
        while (_i < _t.Count && _t[_i] == ".")
        {
            parts.Add(_t[_i + 1]);
            _i += 2;
        }
        return string.Join(" . ", parts);
    }

    /// <summary>Looks the values up in "@map" or "{ k : v, … }"; the value text, or null when no key matches.</summary>
    private string? Lookup(List<object> values)
    {
        if (_t[_i].StartsWith('@'))
        {
            var map = Set(_t[_i][1..]);
            _i++;
            return map.Elements.Values.FirstOrDefault(e => KeyMatches(values, e.Key))?.Value;
        }
        Expect("{");
        string? result = null;
        while (_t[_i] != "}")
        {
            var key = Concatenated();
            Expect(":");
            var value = new List<string>();
            while (_t[_i] is not ("," or "}"))
            {
                value.Add(_t[_i++]);
            }
            if (_t[_i] == ",")
            {
                _i++;
            }
            if (result is null && KeyMatches(values, key))
            {
                result = string.Join(' ', value);
            }
        }
        _i++;
        return result;
    }

    private SetState Set(string name) =>
        table.Sets.GetValueOrDefault(name) ?? throw new InvalidOperationException($"no set or map {name} in {table.Table}");

    private static bool KeyMatches(List<object> values, string key)
    {
        var parts = key.Split(" . ", StringSplitOptions.TrimEntries);
        if (parts.Length != values.Count)
        {
            return false;
        }
        for (var i = 0; i < parts.Length; i++)
        {
            if (!Matches(values[i], parts[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>One value against one literal: an address, prefix or range; a number or range; a name.</summary>
    private static bool Matches(object actual, string literal)
    {
        switch (actual)
        {
            case IPAddress address:
                var dash = literal.IndexOf('-', StringComparison.Ordinal);
                if (literal.Contains('/', StringComparison.Ordinal))
                {
                    return IPNetwork.TryParse(literal, out var network) && network.Contains(address);
                }
                if (dash > 0 && IPAddress.TryParse(literal[..dash], out var low) && IPAddress.TryParse(literal[(dash + 1)..], out var high))
                {
                    return Net.IpMath.Compare(low, address) <= 0 && Net.IpMath.Compare(address, high) <= 0;
                }
                return IPAddress.TryParse(literal, out var single) && single.Equals(address);
            case int number:
                return NumberMatches((uint)number, literal);
            case uint number:
                return NumberMatches(number, literal);
            case string name:
                var text = literal.Trim('"');
                return name == text || (Protocols.TryGetValue(text, out var n) && Protocols.TryGetValue(name, out var m) && n == m);
            default:
                return false;
        }
    }

    private static bool NumberMatches(uint value, string literal)
    {
        var dash = literal.IndexOf('-', 1);
        if (dash > 0)
        {
            return Number(literal[..dash]) <= value && value <= Number(literal[(dash + 1)..]);
        }
        return TryNumber(literal, out var n) && n == value;
    }

    private static readonly Dictionary<string, int> Protocols = new(StringComparer.Ordinal)
    {
        ["icmp"] = 1, ["1"] = 1, ["tcp"] = 6, ["6"] = 6, ["udp"] = 17, ["17"] = 17, ["icmpv6"] = 58, ["58"] = 58, ["sctp"] = 132, ["132"] = 132,
    };

    private static uint Number(string text) => TryNumber(text, out var n) ? n : throw new InvalidOperationException($"not a number: {text}");

    private static bool TryNumber(string text, out uint value) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value)
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static string Format(object value) => value switch
    {
        IPAddress a => a.ToString(),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private void Expect(string token)
    {
        if (_i >= _t.Count || _t[_i] != token)
        {
            throw Unsupported($"expected \"{token}\" at \"{(_i < _t.Count ? _t[_i] : "end")}\"");
        }
        _i++;
    }

    private InvalidOperationException Unsupported(string what) => new($"the tracer cannot read {what} in rule {point}");
}
