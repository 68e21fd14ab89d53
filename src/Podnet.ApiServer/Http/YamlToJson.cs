using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Podnet.ApiServer.Http;

/// <summary>
/// YAML to JSON with bounded work, for bodies any token holder sends and for manifests.
/// </summary>
/// <remarks>
/// Design note. YamlDotNet's YamlStream builds a node tree recursively and expands aliases
/// without limit, so 100,000 nested `[` overflowed the stack (SIGSEGV, the whole server) and a
/// "billion laughs" document grew to gigabytes. This walks the parser's events with an explicit
/// stack instead, and bounds what a document may cost the way kube-apiserver's YAML decoder
/// (goyaml) does:
/// <list type="bullet">
/// <item>nesting: at most <see cref="RequestLimits.MaxDepth"/> mappings and sequences deep,
/// counting what an alias brings in ("yaml: exceeded max depth of N", as goyaml);</item>
/// <item>aliases: goyaml's ratio, nodes produced by aliases over all nodes produced, allowed up
/// to 99 % for documents of up to 400,000 nodes and falling to 10 % at 4,000,000 ("yaml: document
/// contains excessive aliasing"); an alias is checked before its copy is made;</item>
/// <item>output: at most <see cref="RequestLimits.MaxRequestBodyBytes"/> of JSON a document
/// (<see cref="YamlBoundException.TooLarge"/>, a 413 in the server);</item>
/// <item>time: the cancellation token is checked every few hundred events.</item>
/// </list>
/// An anchor is usable once its node is complete, so an alias inside its own anchor ("anchor
/// 'x' value contains itself") never makes a cycle. Scalars are typed as before (YAML 1.2's
/// core schema for plain scalars; tags are not read). Merge keys (<c>&lt;&lt;: *base</c>,
/// <c>&lt;&lt;: [*a, *b]</c>) merge as YAML 1.1 says and goyaml does: the mapping's own keys
/// win, then earlier merged mappings over later ones.
/// </remarks>
internal sealed partial class YamlToJson
{
    private const int CheckEvery = 256;

    private readonly IParser _parser;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly Stack<Frame> _stack = new();
    private long _nodes;
    private long _aliased;
    private long _bytes;
    private int _events;

    private YamlToJson(IParser parser, CancellationToken cancellationToken)
    {
        _parser = parser;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Every document of a YAML stream, in order: its root as JSON (null for an empty or null document).</summary>
    public static IEnumerable<JsonNode?> Documents(string text, CancellationToken cancellationToken = default)
    {
        var parser = new GuardedParser(new Parser(new StringReader(text)));
        parser.Consume<StreamStart>();
        while (parser.TryConsume<DocumentStart>(out _))
        {
            // Anchors and budgets are per document, as in goyaml.
            yield return new YamlToJson(parser, cancellationToken).ReadDocument();
            parser.Consume<DocumentEnd>();
        }
        parser.Consume<StreamEnd>();
    }

    private JsonNode? ReadDocument()
    {
        while (true)
        {
            var current = _parser.Current ?? throw new YamlException("yaml: unexpected end of the stream");
            if (++_events % CheckEvery == 0)
            {
                _cancellationToken.ThrowIfCancellationRequested();
            }
            var done = current switch
            {
                MappingStart m => Open(m, new JsonObject(), m.Anchor),
                SequenceStart s => Open(s, new JsonArray(), s.Anchor),
                MappingEnd or SequenceEnd => Close(current),
                Scalar scalar => Add(current, ScalarValue(scalar), scalar),
                AnchorAlias alias => Alias(alias),
                _ => throw new YamlException(current.Start, current.End, $"yaml: unexpected {current.GetType().Name}"),
            };
            _parser.MoveNext();
            if (done is { } root)
            {
                return root.Node;
            }
        }
    }

    private Done? Open(ParsingEvent e, JsonNode container, AnchorName anchor)
    {
        if (_stack.TryPeek(out var parent) && parent.ExpectsKey)
        {
            throw new YamlException(e.Start, e.End, "yaml: invalid map key: a mapping or sequence");
        }
        if (_stack.Count + 1 > RequestLimits.MaxDepth)
        {
            throw Deep(e);
        }
        Count(e, 1, 0, 2);
        var frame = new Frame(container, anchor.IsEmpty ? null : anchor.Value, _nodes - 1, _bytes - 2);
        if (frame.Anchor is { } name)
        {
            // The newest definition of a name is this one from now on, usable once complete.
            _anchors.Remove(name);
            _open[name] = _open.GetValueOrDefault(name) + 1;
        }
        _stack.Push(frame);
        return null;
    }

    private Done? Close(ParsingEvent e)
    {
        var frame = _stack.Pop();
        frame.ApplyMerges();
        if (frame.Anchor is { } name)
        {
            _open[name]--;
            _anchors[name] = new Anchored(frame.Node, null, _nodes - frame.NodesAtStart, _bytes - frame.BytesAtStart, frame.Height);
        }
        return Place(e, frame.Node, frame.Height);
    }

    private Done? Add(ParsingEvent e, JsonNode? value, Scalar scalar)
    {
        Count(e, 1, 0, scalar.Value.Length + 4);
        if (!scalar.Anchor.IsEmpty)
        {
            _anchors[scalar.Anchor.Value] = new Anchored(value, scalar.Value, 1, scalar.Value.Length + 4, 0);
        }
        if (_stack.TryPeek(out var parent) && parent.ExpectsKey)
        {
            parent.TakeKey(e, scalar.Value, scalar.Style == ScalarStyle.Plain && scalar.Value == "<<");
            return null;
        }
        return Place(e, value, 0);
    }

    private Done? Alias(AnchorAlias alias)
    {
        var name = alias.Value.Value;
        if (!_anchors.TryGetValue(name, out var anchored))
        {
            throw new YamlException(alias.Start, alias.End, _open.GetValueOrDefault(name) > 0
                ? $"yaml: anchor '{name}' value contains itself"
                : $"yaml: unknown anchor '{name}' referenced");
        }
        if (_stack.Count + anchored.Height > RequestLimits.MaxDepth)
        {
            throw Deep(alias);
        }
        // The alias node itself, then every node of the copy, counted before the copy is made.
        Count(alias, 1 + anchored.Nodes, anchored.Nodes, anchored.Bytes);
        if (_stack.TryPeek(out var parent) && parent.ExpectsKey)
        {
            parent.TakeKey(alias, anchored.Raw ?? throw new YamlException(alias.Start, alias.End, $"yaml: invalid map key: alias '{name}' is a mapping or sequence"), merge: false);
            return null;
        }
        return Place(alias, anchored.Node?.DeepClone(), anchored.Height);
    }

    /// <summary>Puts a complete value into its parent; the document's root when there is none.</summary>
    private Done? Place(ParsingEvent e, JsonNode? value, int height)
    {
        if (!_stack.TryPeek(out var parent))
        {
            return new Done(value);
        }
        parent.Take(e, value, height);
        return null;
    }

    private void Count(ParsingEvent e, long nodes, long aliased, long bytes)
    {
        _nodes += nodes;
        _aliased += aliased;
        _bytes += bytes;
        if (_aliased > 100 && _nodes > 1000 && (double)_aliased / _nodes > AllowedAliasRatio(_nodes))
        {
            throw new YamlException(e.Start, e.End, "yaml: document contains excessive aliasing");
        }
        if (_bytes > RequestLimits.MaxRequestBodyBytes)
        {
            throw new YamlBoundException(e.Start, e.End, $"yaml: the document is more than {RequestLimits.MaxRequestBodyBytes} bytes as JSON", tooLarge: true);
        }
    }

    /// <summary>goyaml's allowedAliasRatio: 99 % up to 400,000 nodes, down to 10 % at 4,000,000.</summary>
    private static double AllowedAliasRatio(long nodes) => nodes switch
    {
        <= 400_000 => 0.99,
        >= 4_000_000 => 0.10,
        _ => 0.99 - (0.89 * (nodes - 400_000) / 3_600_000),
    };

    private static YamlException Deep(ParsingEvent e) =>
        new YamlBoundException(e.Start, e.End, $"yaml: exceeded max depth of {RequestLimits.MaxDepth}", tooLarge: false);

    /// <summary>A plain scalar typed as YAML 1.2's core schema does; any other style is a string.</summary>
    public static JsonNode? ScalarValue(Scalar scalar) => ScalarValue(scalar.Value, scalar.Style);

    public static JsonNode? ScalarValue(string value, ScalarStyle style)
    {
        if (style != ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }
        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase));
        }
        if (long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        // 1e400 is no number JSON can carry (goyaml's +Inf fails its JSON conversion): a string.
        if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && value.Any(char.IsDigit) && double.IsFinite(d))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(value);
    }
}

/// <summary>
/// YamlDotNet's parser, whose scanner throws a bare InvalidOperationException on some malformed
/// plain scalars and an ArgumentException on a surrogate escape ("\udfff") (both found by the
/// fuzzer): that is bad YAML too, a YamlException like the others.
/// </summary>
internal sealed class GuardedParser(IParser parser) : IParser
{
    public ParsingEvent? Current => parser.Current;

    public bool MoveNext()
    {
        try
        {
            return parser.MoveNext();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            var at = parser.Current?.End ?? Mark.Empty;
            throw new YamlException(at, at, "yaml: could not scan the document", e);
        }
    }
}

/// <summary>A YAML document over one of <see cref="YamlToJson"/>'s bounds; <see cref="TooLarge"/> when it is its size.</summary>
internal sealed class YamlBoundException(Mark start, Mark end, string message, bool tooLarge) : YamlException(start, end, message)
{
    public bool TooLarge { get; } = tooLarge;
}
