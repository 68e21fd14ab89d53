using System.Text.Json;

namespace Podnet.ApiServer.Http;

/// <summary>
/// The schemas of the served kinds, from kinds.schemas.json (embedded): what /openapi/v3 serves
/// and what field validation checks bodies against.
/// </summary>
/// <remarks>
/// The file is generated from KubernetesClient's models by the test project (KindSchemasFile),
/// whose test fails when it is not what those models give, so the schemas stay the library's
/// while the server reads no model at run time (it is NativeAOT). Its form:
/// <c>{"kinds": {resource key, or "scale": schema name}, "schemas": {name: OpenAPI v3 schema}}</c>,
/// schemas referring to each other with <c>$ref: #/components/schemas/NAME</c>. Nothing of it
/// stays in memory but the <see cref="Shape"/>s compiled from it for validation: each reader
/// parses it, uses it and lets it go.
/// </remarks>
internal static class KindSchemas
{
    /// <summary>The key of the scale subresource's schema in "kinds".</summary>
    public const string Scale = "scale";

    /// <summary>The key of the pods/eviction subresource's schema (policy/v1 Eviction) in "kinds".</summary>
    public const string Eviction = "eviction";

    private const string RefPrefix = "#/components/schemas/";

    private static readonly Lazy<Dictionary<string, Shape>> Shapes = new(Compile);

    /// <summary>The parsed file; the caller disposes it.</summary>
    public static JsonDocument Open()
    {
        using var stream = typeof(KindSchemas).Assembly.GetManifestResourceStream("Podnet.ApiServer.kinds.schemas.json")
            ?? throw new InvalidOperationException("kinds.schemas.json is not embedded in Podnet.ApiServer");
        return JsonDocument.Parse(stream);
    }

    /// <summary>The name a $ref refers to, or null when <paramref name="schema"/> has none.</summary>
    public static string? RefOf(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var r) && r.ValueKind == JsonValueKind.String && r.GetString() is { } s && s.StartsWith(RefPrefix, StringComparison.Ordinal) ? s[RefPrefix.Length..] : null;

    /// <summary>The shape of a kind's objects (or of Scale for <see cref="Scale"/>), null for a kind the file lacks.</summary>
    public static Shape? ShapeOf(string key) => Shapes.Value.GetValueOrDefault(key);

    private static Dictionary<string, Shape> Compile()
    {
        using var file = Open();
        var schemas = file.RootElement.GetProperty("schemas");
        var named = new Dictionary<string, Shape>();
        Shape Named(string name)
        {
            if (!named.TryGetValue(name, out var shape))
            {
                // Registered before it is filled, so that a type that contains itself ends.
                named[name] = shape = new Shape();
                Fill(shape, schemas.GetProperty(name), Named);
            }
            return shape;
        }
        var kinds = new Dictionary<string, Shape>();
        foreach (var kind in file.RootElement.GetProperty("kinds").EnumerateObject())
        {
            kinds[kind.Name] = Named(kind.Value.GetString()!);
        }
        return kinds;
    }

    private static Shape Of(JsonElement schema, Func<string, Shape> named)
    {
        if (RefOf(schema) is { } name)
        {
            return named(name);
        }
        if (schema.TryGetProperty("allOf", out var all) && all.GetArrayLength() == 1)
        {
            return Of(all[0], named);
        }
        var shape = new Shape();
        Fill(shape, schema, named);
        return shape;
    }

    private static void Fill(Shape shape, JsonElement schema, Func<string, Shape> named)
    {
        if (schema.TryGetProperty("x-kubernetes-preserve-unknown-fields", out var open) && open.ValueKind == JsonValueKind.True)
        {
            return;
        }
        if (schema.TryGetProperty("properties", out var properties))
        {
            shape.Properties = [];
            foreach (var p in properties.EnumerateObject())
            {
                shape.Properties[p.Name] = Of(p.Value, named);
            }
        }
        else if (schema.TryGetProperty("additionalProperties", out var values) && values.ValueKind == JsonValueKind.Object)
        {
            shape.Values = Of(values, named);
        }
        else if (schema.TryGetProperty("items", out var items))
        {
            shape.Items = Of(items, named);
        }
    }
}

/// <summary>
/// What field validation needs of a schema: an object's fields, a map's values or a list's
/// items; none of them for a value that takes anything (scalars, preserved unknown fields).
/// </summary>
internal sealed class Shape
{
    public Dictionary<string, Shape>? Properties { get; set; }

    public Shape? Values { get; set; }

    public Shape? Items { get; set; }
}
