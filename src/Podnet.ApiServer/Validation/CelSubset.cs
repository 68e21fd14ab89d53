using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// A small, bounded evaluator for the x-kubernetes-validations rules of the shapes CRDs such as
/// ClusterNetworkPolicy use: literals (integers, strings, true/false), <c>self</c> and its fields
/// (<c>self.a.b</c>), comparisons (&lt; &lt;= &gt; &gt;= == !=), <c>!</c>, <c>&amp;&amp;</c>,
/// <c>||</c>, parentheses, and the functions <c>isCIDR(s)</c>, <c>size(x)</c> and
/// <c>has(self.f)</c>. A rule outside this subset does not compile (<see cref="TryCompile"/>
/// returns null) and stays "not enforced", named in a warning.
/// </summary>
/// <remarks>
/// Design: a recursive-descent parser over at most <see cref="MaxLength"/> characters and
/// <see cref="MaxDepth"/> levels of nesting builds a tree once per schema; evaluating it walks
/// the tree once, touching only the fields it names (size() counts, it does not walk), so a
/// rule's cost is bounded by its text, never by the object. An evaluation error (a missing
/// field, mismatched types) gives null: the rule is not reported, as required fields and types
/// are already checked by the schema.
/// </remarks>
internal sealed class CelSubset
{
    public const int MaxLength = 1024;
    public const int MaxDepth = 32;

    private readonly Func<JsonNode?, object?> _eval;

    private CelSubset(Func<JsonNode?, object?> eval) => _eval = eval;

    public static CelSubset? TryCompile(string rule)
    {
        if (rule.Length > MaxLength)
        {
            return null;
        }
        try
        {
            var parser = new Parser(rule);
            var eval = parser.Or(0);
            return parser.AtEnd ? new CelSubset(eval) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>True or false; null when the rule cannot be evaluated on <paramref name="self"/>.</summary>
    public bool? Evaluate(JsonNode? self)
    {
        try
        {
            return _eval(self) as bool?;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static InvalidOperationException Error(string what) => new(what);

    private sealed class Parser(string text)
    {
        private int _i;

        public bool AtEnd
        {
            get
            {
                Skip();
                return _i == text.Length;
            }
        }

        public Func<JsonNode?, object?> Or(int depth)
        {
            var left = And(Deeper(depth));
            while (Take("||"))
            {
                var (l, r) = (left, And(depth + 1));
                left = s => Bool(l(s)) || Bool(r(s));
            }
            return left;
        }

        private Func<JsonNode?, object?> And(int depth)
        {
            var left = Comparison(depth);
            while (Take("&&"))
            {
                var (l, r) = (left, Comparison(depth));
                left = s => Bool(l(s)) && Bool(r(s));
            }
            return left;
        }

        private Func<JsonNode?, object?> Comparison(int depth)
        {
            var left = Unary(depth);
            foreach (var op in new[] { "<=", ">=", "==", "!=", "<", ">" })
            {
                if (Take(op))
                {
                    var (l, r) = (left, Unary(depth));
                    return s => Compare(op, l(s), r(s));
                }
            }
            return left;
        }

        private Func<JsonNode?, object?> Unary(int depth)
        {
            if (Take("!"))
            {
                var inner = Unary(Deeper(depth));
                return s => !Bool(inner(s));
            }
            return Primary(depth);
        }

        private Func<JsonNode?, object?> Primary(int depth)
        {
            Skip();
            if (Take("("))
            {
                var inner = Or(Deeper(depth));
                Expect(")");
                return inner;
            }
            if (_i < text.Length && char.IsAsciiDigit(text[_i]))
            {
                var start = _i;
                while (_i < text.Length && char.IsAsciiDigit(text[_i]))
                {
                    _i++;
                }
                var n = long.Parse(text.AsSpan(start, _i - start), CultureInfo.InvariantCulture);
                return _ => n;
            }
            if (_i < text.Length && text[_i] is '\'' or '"')
            {
                var quote = text[_i++];
                var end = text.IndexOf(quote, _i);
                if (end < 0 || text.AsSpan(_i, end - _i).Contains('\\'))
                {
                    throw new FormatException("string literal");
                }
                var literal = text[_i..end];
                _i = end + 1;
                return _ => literal;
            }
            var name = Identifier();
            switch (name)
            {
                case "true":
                    return _ => true;
                case "false":
                    return _ => false;
                case "self":
                    var path = Fields();
                    return s => Walk(s, path, presence: false);
                case "has":
                {
                    Expect("(");
                    if (Identifier() != "self")
                    {
                        throw new FormatException("has() takes a field of self");
                    }
                    var fields = Fields();
                    Expect(")");
                    if (fields.Count == 0)
                    {
                        throw new FormatException("has() takes a field");
                    }
                    return s => Walk(s, fields, presence: true);
                }
                case "isCIDR" or "size":
                {
                    Expect("(");
                    var argument = Or(Deeper(depth));
                    Expect(")");
                    return name == "isCIDR" ? s => IsCidr(argument(s) as string ?? throw Error("isCIDR wants a string")) : s => Size(argument(s));
                }
                default:
                    throw new FormatException($"unsupported identifier {name}");
            }
        }

        private List<string> Fields()
        {
            var fields = new List<string>();
            while (Peek('.'))
            {
                _i++;
                fields.Add(Identifier());
                if (Peek('('))
                {
                    throw new FormatException("method calls are outside the subset");
                }
            }
            return fields;
        }

        private string Identifier()
        {
            Skip();
            var start = _i;
            while (_i < text.Length && (char.IsAsciiLetterOrDigit(text[_i]) || text[_i] == '_') && (_i > start || !char.IsAsciiDigit(text[_i])))
            {
                _i++;
            }
            return _i > start ? text[start.._i] : throw new FormatException("identifier expected");
        }

        private static int Deeper(int depth) => depth < MaxDepth ? depth + 1 : throw new FormatException("nested too deeply");

        private bool Peek(char c)
        {
            Skip();
            return _i < text.Length && text[_i] == c;
        }

        private bool Take(string token)
        {
            Skip();
            if (string.CompareOrdinal(text, _i, token, 0, token.Length) != 0)
            {
                return false;
            }
            // "<" must not take the first character of "<=", nor "!" of "!=".
            if (token.Length == 1 && _i + 1 < text.Length && text[_i + 1] == '=' && token is "<" or ">" or "!")
            {
                return false;
            }
            _i += token.Length;
            return true;
        }

        private void Expect(string token)
        {
            if (!Take(token))
            {
                throw new FormatException($"{token} expected");
            }
        }

        private void Skip()
        {
            while (_i < text.Length && char.IsWhiteSpace(text[_i]))
            {
                _i++;
            }
        }
    }

    private static object? Walk(JsonNode? self, List<string> fields, bool presence)
    {
        var node = self;
        for (var i = 0; i < fields.Count; i++)
        {
            if (node is not JsonObject o)
            {
                throw Error("field of a non-object");
            }
            if (!o.TryGetPropertyValue(fields[i], out var next))
            {
                return presence && i == fields.Count - 1 ? false : throw Error($"no such key: {fields[i]}");
            }
            node = next;
        }
        return presence ? true : Value(node);
    }

    // Each arm typed object: JsonNode's implicit conversions would otherwise make the switch's
    // type JsonNode and wrap the scalars again.
    private static object? Value(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => (object)v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => (object)v.GetValue<bool>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => (object)n,
        JsonValue => throw Error("only integers, strings and booleans compare"),
        _ => node,
    };

    private static bool Bool(object? value) => value as bool? ?? throw Error("not a boolean");

    private static bool Compare(string op, object? left, object? right)
    {
        int order = (left, right) switch
        {
            (long a, long b) => a.CompareTo(b),
            (string a, string b) => string.CompareOrdinal(a, b),
            (bool a, bool b) when op is "==" or "!=" => a == b ? 0 : 1,
            _ => throw Error("no such overload"),
        };
        return op switch
        {
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            ">=" => order >= 0,
            "==" => order == 0,
            _ => order != 0,
        };
    }

    private static long Size(object? value) => value switch
    {
        string s => s.EnumerateRunes().Count(),
        JsonArray a => a.Count,
        JsonObject o => o.Count,
        _ => throw Error("size() of a scalar"),
    };

    /// <summary>
    /// Kubernetes' CEL isCIDR: an address (IPv4 in four decimal parts without leading zeros, or
    /// IPv6 without a zone), a slash and a prefix length in range, without leading zeros; the
    /// address need not be the network's first (Go's netip.ParsePrefix).
    /// </summary>
    public static bool IsCidr(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0 || text.Contains('%'))
        {
            return false;
        }
        var bitsText = text[(slash + 1)..];
        if (bitsText.Length is 0 or > 3 || !bitsText.All(char.IsAsciiDigit) || (bitsText.Length > 1 && bitsText[0] == '0'))
        {
            return false;
        }
        var bits = int.Parse(bitsText, CultureInfo.InvariantCulture);
        var address = text[..slash];
        if (!address.Contains(':'))
        {
            var parts = address.Split('.');
            return parts.Length == 4
                && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p, CultureInfo.InvariantCulture) <= 255)
                && bits <= 32;
        }
        return IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && bits <= 128;
    }
}
