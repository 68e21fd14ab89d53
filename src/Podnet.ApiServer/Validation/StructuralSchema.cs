using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// A CustomResourceDefinition version's structural OpenAPI v3 schema, compiled once when the
/// definition is read: what the custom resource's objects are validated, pruned and defaulted
/// against, as apiextensions-apiserver does.
/// </summary>
/// <remarks>
/// Design: the schema is compiled into this tree rather than walked as JSON for every request,
/// so that a pattern is a compiled <see cref="Regex"/> (with a match timeout: a user's pattern
/// must not hold a request) and the walk is over fields, not strings. The compiler refuses a
/// schema deeper than <see cref="MaxDepth"/> (the CRD's validation reports it, so a stored
/// CRD always compiles), and every walk of an object follows the schema, so it ends where the
/// schema does; what a schema leaves open (x-kubernetes-preserve-unknown-fields, int-or-string)
/// is not walked further. x-kubernetes-validations (CEL) rules are compiled by
/// <see cref="CelSubset"/> and enforced when they are in its subset; the others are kept in
/// <see cref="Rules"/> so that the CRD's writer is told which rules Podnet does not enforce.
/// </remarks>
internal sealed class StructuralSchema
{
    /// <summary>Nesting of schemas a CRD may have (upstream has no fixed bound; objects are bounded at 500 levels).</summary>
    public const int MaxDepth = 64;

    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(100);

    public string? Type { get; private set; }

    public Dictionary<string, StructuralSchema>? Properties { get; private set; }

    public StructuralSchema? AdditionalProperties { get; private set; }

    public StructuralSchema? Items { get; private set; }

    public string[] Required { get; private set; } = [];

    public JsonArray? Enum { get; private set; }

    public double? Minimum { get; private set; }

    public double? Maximum { get; private set; }

    public bool ExclusiveMinimum { get; private set; }

    public bool ExclusiveMaximum { get; private set; }

    public long? MinLength { get; private set; }

    public long? MaxLength { get; private set; }

    public Regex? Pattern { get; private set; }

    public string? PatternText { get; private set; }

    public long? MinItems { get; private set; }

    public long? MaxItems { get; private set; }

    public long? MinProperties { get; private set; }

    public long? MaxProperties { get; private set; }

    public bool UniqueItems { get; private set; }

    public bool Nullable { get; private set; }

    public bool IntOrString { get; private set; }

    public bool PreserveUnknownFields { get; private set; }

    public bool EmbeddedResource { get; private set; }

    public JsonNode? Default { get; private set; }

    public string? Description { get; private set; }

    /// <summary>The <c>format</c> (see <see cref="StringFormats"/> for which are checked on strings).</summary>
    public string? StringFormat { get; private set; }

    public string? ListType { get; private set; }

    public string[] ListMapKeys { get; private set; } = [];

    /// <summary>The x-kubernetes-validations rules of this level (those outside <see cref="CelSubset"/> not enforced).</summary>
    public List<string> Rules { get; } = [];

    /// <summary>The rules of this level that <see cref="CelSubset"/> compiled, with the message a failure gives.</summary>
    private List<(CelSubset Rule, string Message)> Checks { get; } = [];

    /// <summary>Compiles a schema; throws <see cref="FormatException"/> naming the field for what does not compile.</summary>
    public static StructuralSchema Compile(JsonNode? schema) => Compile(schema, "", 0);

    private static StructuralSchema Compile(JsonNode? node, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"{path}: the schema is nested more than {MaxDepth} levels deep");
        }
        var schema = node as JsonObject ?? throw new FormatException($"{path}: must be an object");
        var s = new StructuralSchema
        {
            Type = (string?)(schema["type"] as JsonValue),
            Description = (string?)(schema["description"] as JsonValue),
            Nullable = Bool(schema, "nullable"),
            IntOrString = Bool(schema, "x-kubernetes-int-or-string"),
            PreserveUnknownFields = Bool(schema, "x-kubernetes-preserve-unknown-fields"),
            EmbeddedResource = Bool(schema, "x-kubernetes-embedded-resource"),
            UniqueItems = Bool(schema, "uniqueItems"),
            ExclusiveMinimum = Bool(schema, "exclusiveMinimum"),
            ExclusiveMaximum = Bool(schema, "exclusiveMaximum"),
            Minimum = Number(schema, "minimum"),
            Maximum = Number(schema, "maximum"),
            MinLength = Integer(schema, "minLength"),
            MaxLength = Integer(schema, "maxLength"),
            MinItems = Integer(schema, "minItems"),
            MaxItems = Integer(schema, "maxItems"),
            MinProperties = Integer(schema, "minProperties"),
            MaxProperties = Integer(schema, "maxProperties"),
            Enum = schema["enum"] as JsonArray,
            Default = schema["default"]?.DeepClone(),
            StringFormat = (string?)(schema["format"] as JsonValue),
            ListType = (string?)(schema["x-kubernetes-list-type"] as JsonValue),
            ListMapKeys = (schema["x-kubernetes-list-map-keys"] as JsonArray)?.Select(k => (string?)(k as JsonValue) ?? "").ToArray() ?? [],
            Required = (schema["required"] as JsonArray)?.Select(k => (string?)(k as JsonValue) ?? "").ToArray() ?? [],
        };
        if ((string?)(schema["pattern"] as JsonValue) is { } pattern)
        {
            try
            {
                // ECMA-262 patterns in upstream (Go's RE2 in practice); .NET's syntax covers what CRDs use.
                s.Pattern = new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
                s.PatternText = pattern;
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"{path}.pattern: {e.Message}");
            }
        }
        if (schema["properties"] is JsonObject properties)
        {
            s.Properties = [];
            foreach (var (name, value) in properties)
            {
                s.Properties[name] = Compile(value, $"{path}.properties[{name}]", depth + 1);
            }
        }
        if (schema["additionalProperties"] is JsonObject additional)
        {
            s.AdditionalProperties = Compile(additional, $"{path}.additionalProperties", depth + 1);
        }
        if (schema["items"] is JsonObject items)
        {
            s.Items = Compile(items, $"{path}.items", depth + 1);
        }
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            foreach (var rule in rules)
            {
                var text = (string?)(rule?["rule"] as JsonValue) ?? "";
                s.Rules.Add(text);
                if (CelSubset.TryCompile(text) is { } compiled)
                {
                    // Upstream's message when the rule has none: "failed rule: RULE".
                    s.Checks.Add((compiled, (string?)(rule?["message"] as JsonValue) ?? $"failed rule: {text}"));
                }
            }
        }
        return s;
    }

    private static bool Bool(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    // Numbers are read from their JSON text: a JsonValue holds whatever .NET type made it (long from YAML, int from code).
    private static double? Number(JsonObject o, string key) =>
        o[key] is JsonValue v && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static long? Integer(JsonObject o, string key) =>
        o[key] is JsonValue v && long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;

    /// <summary>Every x-kubernetes-validations rule of the schema with the path of its level, for the "not enforced" warning.</summary>
    public IEnumerable<(string Path, string Rule)> AllRules(string path = "")
    {
        foreach (var rule in Rules)
        {
            yield return (path.Length == 0 ? "<root>" : path, rule);
        }
        foreach (var (name, p) in Properties ?? [])
        {
            foreach (var r in p.AllRules(Join(path, name)))
            {
                yield return r;
            }
        }
        foreach (var r in AdditionalProperties?.AllRules(path + "[*]") ?? [])
        {
            yield return r;
        }
        foreach (var r in Items?.AllRules(path + "[*]") ?? [])
        {
            yield return r;
        }
    }

    /// <summary>
    /// What field validation and pruning walk: the fields this schema knows. A level that keeps
    /// unknown fields (or is an embedded resource's metadata) is open.
    /// </summary>
    public Shape ToShape(bool root = false)
    {
        var shape = new Shape();
        if (PreserveUnknownFields && Properties is null)
        {
            return shape;
        }
        if (Properties is not null || root || EmbeddedResource)
        {
            if (PreserveUnknownFields)
            {
                return shape;
            }
            shape.Properties = [];
            foreach (var (name, p) in Properties ?? [])
            {
                shape.Properties[name] = p.ToShape();
            }
            if (root || EmbeddedResource)
            {
                // ObjectMeta is the server's to check, whatever the schema says of it (often just type: object).
                shape.Properties["apiVersion"] = new Shape();
                shape.Properties["kind"] = new Shape();
                shape.Properties["metadata"] = new Shape();
            }
        }
        else if (AdditionalProperties is not null)
        {
            shape.Values = AdditionalProperties.ToShape();
        }
        else if (Items is not null)
        {
            shape.Items = Items.ToShape();
        }
        else if (Type == "object")
        {
            // An object with neither properties nor additionalProperties holds no fields.
            shape.Properties = [];
        }
        return shape;
    }

    /// <summary>Fills absent fields that have a default, depth first, as upstream's structural defaulting.</summary>
    public void ApplyDefaults(JsonNode? value)
    {
        if (value is JsonObject o)
        {
            foreach (var (name, p) in Properties ?? [])
            {
                if (!o.ContainsKey(name) && p.Default is { } d)
                {
                    o[name] = d.DeepClone();
                }
                if (o[name] is { } child)
                {
                    p.ApplyDefaults(child);
                }
            }
            if (AdditionalProperties is { } values)
            {
                foreach (var (_, child) in o.ToList())
                {
                    values.ApplyDefaults(child);
                }
            }
        }
        else if (value is JsonArray a && Items is { } items)
        {
            foreach (var child in a)
            {
                items.ApplyDefaults(child);
            }
        }
    }

    /// <summary>Checks <paramref name="value"/> at <paramref name="path"/>, adding a cause for each problem, as upstream's schema validator words them.</summary>
    public void Validate(JsonNode? value, string path, List<FieldCause> causes)
    {
        if (value is null)
        {
            if (!Nullable && (Type is not null || IntOrString) && !PreserveUnknownFields)
            {
                causes.Add(FieldCause.Invalid(path, "null", $"{path} in body must be of type {TypeName()}: \"null\""));
            }
            return;
        }
        var kind = KindOf(value);
        if (IntOrString)
        {
            if (kind is not ("integer" or "string"))
            {
                causes.Add(FieldCause.Invalid(path, kind, $"{path} in body must be of type integer or string: \"{kind}\""));
                return;
            }
        }
        else if (Type is { } type && !(kind == type || type == "number" && kind == "integer"))
        {
            causes.Add(FieldCause.Invalid(path, kind, $"{path} in body must be of type {type}: \"{kind}\""));
            return;
        }
        if (Enum is { } allowed && !allowed.Any(e => JsonNode.DeepEquals(e, value)))
        {
            causes.Add(new FieldCause("FieldValueNotSupported", path,
                $"Unsupported value: {value.ToJsonString()}: supported values: {string.Join(", ", allowed.Select(e => e?.ToJsonString() ?? "null"))}"));
        }
        switch (value)
        {
            case JsonValue v when kind is "integer" or "number":
                CheckNumber(double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture), value, path, causes);
                break;
            case JsonValue v when kind == "string":
                CheckString(v.GetValue<string>(), path, causes);
                break;
            case JsonArray a:
                CheckArray(a, path, causes);
                break;
            case JsonObject o:
                CheckObject(o, path, causes);
                break;
        }
        foreach (var (rule, message) in Checks)
        {
            // As apiextensions-apiserver words it: the value shown is the type's name.
            if (rule.Evaluate(value) == false)
            {
                causes.Add(FieldCause.Invalid(path, kind, message));
            }
        }
    }

    private string TypeName() => IntOrString ? "integer or string" : Type ?? "object";

    private static string KindOf(JsonNode value) => value switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v when v.TryGetValue<string>(out _) => "string",
        JsonValue v when v.TryGetValue<bool>(out _) => "boolean",
        JsonValue v when v.ToJsonString() is var text && !text.Contains('.') && !text.Contains('e') && !text.Contains('E') => "integer",
        _ => "number",
    };

    private void CheckNumber(double n, JsonNode value, string path, List<FieldCause> causes)
    {
        if (Minimum is { } min && (ExclusiveMinimum ? n <= min : n < min))
        {
            causes.Add(FieldCause.Invalid(path, value, $"{path} in body should be greater than {(ExclusiveMinimum ? "" : "or equal to ")}{Format(min)}"));
        }
        if (Maximum is { } max && (ExclusiveMaximum ? n >= max : n > max))
        {
            causes.Add(FieldCause.Invalid(path, value, $"{path} in body should be less than {(ExclusiveMaximum ? "" : "or equal to ")}{Format(max)}"));
        }
    }

    private static string Format(double d) => d.ToString(CultureInfo.InvariantCulture);

    private void CheckString(string s, string path, List<FieldCause> causes)
    {
        var length = s.EnumerateRunes().Count();
        if (MaxLength is { } max && length > max)
        {
            causes.Add(new FieldCause("FieldValueTooLong", path, $"Too long: may not be more than {max} bytes"));
        }
        if (MinLength is { } min && length < min)
        {
            causes.Add(FieldCause.Invalid(path, s, $"{path} in body should be at least {min} chars long"));
        }
        if (StringFormat is { } format && !StringFormats.Matches(format, s))
        {
            causes.Add(FieldCause.Invalid(path, s, $"{path} in body must be of type {format}: \"{s}\""));
        }
        if (Pattern is { } pattern)
        {
            bool matched;
            try
            {
                matched = pattern.IsMatch(s);
            }
            catch (RegexMatchTimeoutException)
            {
                causes.Add(FieldCause.Invalid(path, s, $"{path} in body could not be matched against '{PatternText}' within {PatternTimeout.TotalMilliseconds} ms"));
                return;
            }
            if (!matched)
            {
                causes.Add(FieldCause.Invalid(path, s, $"{path} in body should match '{PatternText}'"));
            }
        }
    }

    private void CheckArray(JsonArray a, string path, List<FieldCause> causes)
    {
        if (MaxItems is { } max && a.Count > max)
        {
            causes.Add(new FieldCause("FieldValueTooMany", path, $"Too many: {a.Count}: must have at most {max} items"));
        }
        if (MinItems is { } min && a.Count < min)
        {
            causes.Add(FieldCause.Invalid(path, a, $"{path} in body should have at least {min} items"));
        }
        if ((UniqueItems || ListType == "set") && a.Count <= 1000)
        {
            for (var i = 1; i < a.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (JsonNode.DeepEquals(a[i], a[j]))
                    {
                        causes.Add(FieldCause.Duplicate($"{path}[{i}]", a[i]));
                        j = i;
                    }
                }
            }
        }
        if (ListType == "map" && ListMapKeys.Length > 0)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < a.Count; i++)
            {
                var key = string.Join("\0", ListMapKeys.Select(k => a[i]?[k]?.ToJsonString() ?? "null"));
                if (!seen.Add(key))
                {
                    causes.Add(FieldCause.Duplicate($"{path}[{i}]", new JsonObject(ListMapKeys.Select(k => KeyValuePair.Create(k, a[i]?[k]?.DeepClone())))));
                }
            }
        }
        if (Items is { } items)
        {
            for (var i = 0; i < a.Count; i++)
            {
                items.Validate(a[i], $"{path}[{i}]", causes);
            }
        }
    }

    private void CheckObject(JsonObject o, string path, List<FieldCause> causes)
    {
        foreach (var name in Required)
        {
            if (!o.ContainsKey(name))
            {
                causes.Add(FieldCause.Required(Join(path, name)));
            }
        }
        if (MaxProperties is { } max && o.Count > max)
        {
            causes.Add(new FieldCause("FieldValueTooMany", path, $"Too many: {o.Count}: must have at most {max} items"));
        }
        if (MinProperties is { } min && o.Count < min)
        {
            causes.Add(FieldCause.Invalid(path, o.Count, $"{path} in body should have at least {min} properties"));
        }
        if (EmbeddedResource)
        {
            if (o["kind"] is not JsonValue { } k || (string?)k is not { Length: > 0 })
            {
                causes.Add(FieldCause.Required(Join(path, "kind"), "must not be empty"));
            }
            if (o["apiVersion"] is not JsonValue { } v || (string?)v is not { Length: > 0 })
            {
                causes.Add(FieldCause.Required(Join(path, "apiVersion"), "must not be empty"));
            }
        }
        foreach (var (name, value) in o)
        {
            if (Properties?.GetValueOrDefault(name) is { } p)
            {
                p.Validate(value, Join(path, name), causes);
            }
            else if (AdditionalProperties is { } values)
            {
                values.Validate(value, Join(path, name), causes);
            }
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
