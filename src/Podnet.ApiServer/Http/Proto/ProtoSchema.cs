using System.Collections.Frozen;
using System.Text.Json;

namespace Podnet.ApiServer.Http.Proto;

/// <summary>
/// The Kubernetes protobuf wire format as data: every message the server reads or writes, with
/// its fields' numbers, JSON names and types, loaded once from <c>Http/protobuf.schema.json</c>
/// (embedded; generated from upstream's generated.proto and types.go by
/// scripts/protobuf-schema.py). No message type exists in code: the codec walks this.
/// </summary>
/// <remarks>
/// A few upstream messages do not map field for field onto their JSON, and get a
/// <see cref="ProtoKind"/> of their own: Time and MicroTime (RFC 3339 strings), Duration
/// (Go's "1h2m3s"), Quantity (a string), IntOrString (a number or a string), RawExtension and
/// FieldsV1 (raw JSON in bytes), and the `+protobuf.nullable` wrappers of Go slices (Verbs,
/// ExtraValue), which are JSON arrays.
/// </remarks>
internal sealed class ProtoSchema
{
    private const string Meta = "k8s.io.apimachinery.pkg.apis.meta.v1.";

    private static readonly FrozenDictionary<string, ProtoKind> Special = new Dictionary<string, ProtoKind>
    {
        [Meta + "Time"] = ProtoKind.Time,
        [Meta + "MicroTime"] = ProtoKind.MicroTime,
        [Meta + "Duration"] = ProtoKind.Duration,
        [Meta + "FieldsV1"] = ProtoKind.RawJson,
        ["k8s.io.apimachinery.pkg.runtime.RawExtension"] = ProtoKind.RawJson,
        ["k8s.io.apimachinery.pkg.api.resource.Quantity"] = ProtoKind.Quantity,
        ["k8s.io.apimachinery.pkg.util.intstr.IntOrString"] = ProtoKind.IntOrString,
    }.ToFrozenDictionary();

    public static ProtoSchema Instance { get; } = Load();

    /// <summary>Whether the message is one of those written by hand (Time, IntOrString, ...), never field by field.</summary>
    public static bool IsSpecial(string message) => Special.ContainsKey(message);

    private readonly FrozenDictionary<string, ProtoMessage> _kinds;

    private ProtoSchema(FrozenDictionary<string, ProtoMessage> kinds, FrozenDictionary<string, ProtoMessage> messages)
    {
        _kinds = kinds;
        Messages = messages;
    }

    public FrozenDictionary<string, ProtoMessage> Messages { get; }

    /// <summary>"apiVersion/Kind" (e.g. "apps/v1/Deployment", "v1/PodList") of each mapped kind.</summary>
    public IEnumerable<string> Kinds => _kinds.Keys;

    /// <summary>
    /// The message of a kind; meta/v1's kinds (Status, DeleteOptions, WatchEvent, ...) are found
    /// under any group version, as upstream registers them in each.
    /// </summary>
    public ProtoMessage? Find(string apiVersion, string kind) =>
        _kinds.GetValueOrDefault($"{apiVersion}/{kind}") ?? _kinds.GetValueOrDefault($"meta/{kind}");

    private static ProtoSchema Load()
    {
        using var stream = typeof(ProtoSchema).Assembly.GetManifestResourceStream("Podnet.ApiServer.protobuf.schema.json")
            ?? throw new InvalidOperationException("the embedded protobuf.schema.json is missing");
        using var file = JsonDocument.Parse(stream);
        var root = file.RootElement;
        var messages = new Dictionary<string, ProtoMessage>();
        foreach (var m in root.GetProperty("messages").EnumerateObject())
        {
            messages[m.Name] = new ProtoMessage(m.Name, m.Value.TryGetProperty("slice", out var s) && s.GetBoolean());
        }
        foreach (var m in root.GetProperty("messages").EnumerateObject())
        {
            var fields = m.Value.GetProperty("fields").EnumerateArray().Select(f => Field(f, messages)).OrderBy(f => f.Number).ToArray();
            messages[m.Name].SetFields(fields);
        }
        var kinds = root.GetProperty("kinds").EnumerateObject().ToDictionary(k => k.Name, k => messages[k.Value.GetString()!]);
        return new ProtoSchema(kinds.ToFrozenDictionary(), messages.ToFrozenDictionary());
    }

    private static ProtoField Field(JsonElement f, Dictionary<string, ProtoMessage> messages)
    {
        bool Flag(string name) => f.TryGetProperty(name, out var v) && v.GetBoolean();
        var type = f.GetProperty("type").GetString()!;
        var kind = type switch
        {
            "string" => ProtoKind.String,
            "bytes" => ProtoKind.Bytes,
            "bool" => ProtoKind.Bool,
            "int32" => ProtoKind.Int32,
            "int64" => ProtoKind.Int64,
            "double" => ProtoKind.Double,
            "float" => ProtoKind.Float,
            _ when Special.TryGetValue(type, out var special) => special,
            _ when messages[type].IsSlice => ProtoKind.Slice,
            _ => ProtoKind.Message,
        };
        return new ProtoField(
            f.GetProperty("n").GetInt32(),
            f.GetProperty("json").GetString()!,
            kind,
            kind is ProtoKind.Message or ProtoKind.Slice ? messages[type] : null,
            Flag("rep"),
            Flag("map"),
            Flag("ptr"),
            Flag("inline"),
            Flag("always"));
    }
}

internal enum ProtoKind
{
    String, Bytes, Bool, Int32, Int64, Double, Float,
    Message, Time, MicroTime, Duration, Quantity, IntOrString, RawJson, Slice,
}

/// <summary>
/// One field: <see cref="Pointer"/> fields are written to JSON whenever they are on the wire
/// (a Go pointer: zero is a value); the others, as Go's encoding/json writes a struct, only when
/// not zero, unless <see cref="Always"/> (no `omitempty`). <see cref="Inline"/> messages are
/// embedded structs whose fields sit in the parent's JSON object.
/// </summary>
internal sealed record ProtoField(int Number, string JsonName, ProtoKind Kind, ProtoMessage? Message, bool Repeated, bool Map, bool Pointer, bool Inline, bool Always);

internal sealed class ProtoMessage(string name, bool isSlice)
{
    public string Name { get; } = name;

    /// <summary>A `+protobuf.nullable` wrapper of a Go slice (one repeated field): a JSON array.</summary>
    public bool IsSlice { get; } = isSlice;

    public ProtoField[] Fields { get; private set; } = [];

    public FrozenDictionary<int, ProtoField> ByNumber { get; private set; } = FrozenDictionary<int, ProtoField>.Empty;

    internal void SetFields(ProtoField[] fields)
    {
        Fields = fields;
        ByNumber = fields.ToFrozenDictionary(f => f.Number);
    }

    public override string ToString() => Name;
}
