using System.Text.Json;

namespace Podnet.Cni.Spec;

/// <summary>
/// Typed reads of one JSON property, as strict as System.Text.Json's defaults: a value of the
/// wrong kind is a <see cref="JsonException"/> naming the key (the caller makes it code 6),
/// JSON null is accepted only where the C# type is nullable, numbers are never read from strings.
/// </summary>
/// <remarks>
/// The plugin reads its configuration and results by hand over <see cref="JsonDocument"/> rather
/// than with the serializer: even source-generated, System.Text.Json builds every type's metadata
/// at first use (converters, property lists, polymorphism attributes looked up by reflection),
/// which was a fifth of podnet-cni's CPU per ADD (perf).
/// </remarks>
public static class JsonFields
{
    public static string? String(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.String => p.Value.GetString(),
        JsonValueKind.Null => null,
        _ => throw Wrong(p, "a string"),
    };

    public static bool Bool(JsonProperty p) => p.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Wrong(p, "true or false"),
    };

    public static bool? NullableBool(JsonProperty p) => p.Value.ValueKind == JsonValueKind.Null ? null : Bool(p);

    public static int Int(JsonProperty p) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var value) ? value : throw Wrong(p, "a 32-bit integer");

    public static int? NullableInt(JsonProperty p) => p.Value.ValueKind == JsonValueKind.Null ? null : Int(p);

    /// <summary>An object read by <paramref name="read"/>, or null for JSON null.</summary>
    public static T? Object<T>(JsonProperty p, Func<JsonElement, T> read) where T : class => p.Value.ValueKind switch
    {
        JsonValueKind.Object => read(p.Value),
        JsonValueKind.Null => null,
        _ => throw Wrong(p, "an object"),
    };

    /// <summary>An array whose items <paramref name="read"/> turns into T, or null for JSON null.</summary>
    public static List<T>? List<T>(JsonProperty p, Func<JsonElement, T> read)
    {
        switch (p.Value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array:
                var list = new List<T>(p.Value.GetArrayLength());
                foreach (var item in p.Value.EnumerateArray())
                {
                    list.Add(read(item));
                }
                return list;
            default:
                throw Wrong(p, "an array");
        }
    }

    public static List<string>? Strings(JsonProperty p) => List(p, item => item.ValueKind switch
    {
        JsonValueKind.String => item.GetString()!,
        _ => throw new JsonException($"the items of '{p.Name}' must be strings, not {Kind(item)}"),
    });

    /// <summary>A new T with <paramref name="set"/> applied to each property of the object, in document order (so the last of duplicate keys wins).</summary>
    public static T Fill<T>(JsonElement element, Action<T, JsonProperty> set) where T : new()
    {
        var value = new T();
        foreach (var p in element.EnumerateObject())
        {
            try
            {
                set(value, p);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json finds "\ud800" (half of a surrogate pair) only when a key or string is read.
                throw new JsonException("a key or string holds an unpaired surrogate escape (\\uD800-\\uDFFF)", e);
            }
        }
        return value;
    }

    /// <summary>An array item that must be an object.</summary>
    public static T Item<T>(JsonElement item, string key, Func<JsonElement, T> read) => item.ValueKind == JsonValueKind.Object
        ? read(item)
        : throw new JsonException($"the items of '{key}' must be objects, not {Kind(item)}");

    /// <summary>The element itself when it is an object; else the error naming what it is.</summary>
    public static JsonElement RequireObject(JsonElement element, string what) => element.ValueKind == JsonValueKind.Object
        ? element
        : throw new JsonException($"{what} must be a JSON object, not {Kind(element)}");

    private static JsonException Wrong(JsonProperty p, string expected) =>
        new($"the value of '{p.Name}' must be {expected}, not {Kind(p.Value)}");

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };
}
