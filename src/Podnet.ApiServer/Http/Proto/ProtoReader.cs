using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Podnet.ApiServer.Http.Proto;

/// <summary>
/// Protobuf → JSON along a <see cref="ProtoMessage"/>: the JSON a Go client would have sent for
/// the same object.
/// </summary>
/// <remarks>
/// Go's generated code writes every non-pointer field, zero or not, so "on the wire" says little;
/// the JSON follows encoding/json over the Go struct instead: a pointer field present on the wire
/// is written whatever its value (a replicas of 0 is a value); a scalar without `omitempty` is
/// written when on the wire; any other scalar only when not zero; a non-pointer struct when it
/// has something in it (or has no `omitempty`); lists and maps when not empty; a zero Time not
/// at all (Go writes null). A field number the message lacks is skipped, as Go's generated
/// Unmarshal skips it. Nesting is bounded (<see cref="MaxDepth"/>), and anything malformed is a
/// <see cref="FormatException"/> naming the message and field.
/// </remarks>
internal static class ProtoReader
{
    public const int MaxDepth = 100;

    public static JsonObject Message(ProtoMessage message, ReadOnlyMemory<byte> data, int depth = 0)
    {
        var json = new JsonObject();
        Fill(json, message, data, depth);
        return json;
    }

    private static void Fill(JsonObject json, ProtoMessage message, ReadOnlyMemory<byte> data, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"protobuf messages nested deeper than {MaxDepth} levels");
        }
        var input = Input(data);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            if (!message.ByNumber.TryGetValue(number, out var field))
            {
                input.SkipLastField();
                continue;
            }
            if (field.Inline)
            {
                Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
                Fill(json, field.Message!, Bytes(input), depth + 1);
            }
            else if (field.Map)
            {
                Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
                var map = json[field.JsonName] as JsonObject ?? new JsonObject();
                var (key, value) = MapEntry(message, field, Bytes(input), depth + 1);
                map[key] = value;
                json[field.JsonName] = map;
            }
            else if (field.Repeated)
            {
                var list = json[field.JsonName] as JsonArray ?? new JsonArray();
                ReadRepeated(list, message, field, input, wire, depth);
                json[field.JsonName] = list;
            }
            else
            {
                var value = ReadValue(message, field, input, wire, depth);
                if (Keep(field, value))
                {
                    json[field.JsonName] = value;
                }
                else
                {
                    json.Remove(field.JsonName);
                }
            }
        }
    }

    /// <summary>Whether encoding/json would write this value of a Go struct's field.</summary>
    private static bool Keep(ProtoField field, JsonNode? value)
    {
        if (value is null)
        {
            return false;
        }
        if (field.Pointer || field.Always)
        {
            return true;
        }
        return value switch
        {
            JsonObject o => o.Count > 0,
            JsonArray a => a.Count > 0,
            _ => value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>().Length > 0,
                JsonValueKind.False => false,
                JsonValueKind.Number => value.ToJsonString() != "0",
                _ => true,
            },
        };
    }

    private static void ReadRepeated(JsonArray list, ProtoMessage message, ProtoField field, CodedInputStream input, WireFormat.WireType wire, int depth)
    {
        var scalar = field.Kind is ProtoKind.Bool or ProtoKind.Int32 or ProtoKind.Int64 or ProtoKind.Double or ProtoKind.Float;
        if (scalar && wire == WireFormat.WireType.LengthDelimited)
        {
            // Packed: one length-delimited run of values.
            var packed = Input(Bytes(input));
            while (!packed.IsAtEnd)
            {
                list.Add(ReadScalar(message, field, packed, ScalarWireType(field)));
            }
            return;
        }
        list.Add(ReadValue(message, field, input, wire, depth));
    }

    private static WireFormat.WireType ScalarWireType(ProtoField field) => field.Kind switch
    {
        ProtoKind.Double => WireFormat.WireType.Fixed64,
        ProtoKind.Float => WireFormat.WireType.Fixed32,
        _ => WireFormat.WireType.Varint,
    };

    private static (string Key, JsonNode? Value) MapEntry(ProtoMessage message, ProtoField field, ReadOnlyMemory<byte> data, int depth)
    {
        var input = Input(data);
        var key = "";
        JsonNode? value = null;
        var valueField = field with { Number = 2, Map = false, Pointer = true };
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var wire = WireFormat.GetTagWireType(tag);
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
                    key = input.ReadString();
                    break;
                case 2:
                    value = ReadValue(message, valueField, input, wire, depth);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        // A map entry without a value holds the value type's zero.
        return (key, value ?? Zero(valueField));
    }

    private static JsonNode? Zero(ProtoField field) => field.Kind switch
    {
        ProtoKind.String or ProtoKind.Bytes or ProtoKind.Quantity => "",
        ProtoKind.Bool => false,
        ProtoKind.Int32 or ProtoKind.Int64 or ProtoKind.Double or ProtoKind.Float => 0,
        ProtoKind.Message => new JsonObject(),
        _ => null,
    };

    private static JsonNode? ReadValue(ProtoMessage message, ProtoField field, CodedInputStream input, WireFormat.WireType wire, int depth)
    {
        if (field.Kind is ProtoKind.Bool or ProtoKind.Int32 or ProtoKind.Int64 or ProtoKind.Double or ProtoKind.Float)
        {
            return ReadScalar(message, field, input, wire);
        }
        Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
        var bytes = Bytes(input);
        return field.Kind switch
        {
            ProtoKind.String => Utf8(message, field, bytes),
            ProtoKind.Bytes => Convert.ToBase64String(bytes.Span),
            ProtoKind.Message => Message(field.Message!, bytes, depth + 1),
            _ => Special(message, field, bytes, depth + 1),
        };
    }

    private static JsonNode ReadScalar(ProtoMessage message, ProtoField field, CodedInputStream input, WireFormat.WireType wire)
    {
        Expect(message, field, wire, ScalarWireType(field));
        return field.Kind switch
        {
            ProtoKind.Bool => input.ReadBool(),
            ProtoKind.Int32 => input.ReadInt32(),
            ProtoKind.Int64 => input.ReadInt64(),
            ProtoKind.Double => input.ReadDouble(),
            _ => input.ReadFloat(),
        };
    }

    private static JsonNode? Special(ProtoMessage message, ProtoField field, ReadOnlyMemory<byte> data, int depth)
    {
        var input = Input(data);
        long seconds = 0, number = 0;
        int nanos = 0, intVal = 0;
        var text = "";
        ReadOnlyMemory<byte> raw = default;
        var items = new JsonArray();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var n = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field.Kind, n)
            {
                case (ProtoKind.Time or ProtoKind.MicroTime, 1):
                case (ProtoKind.Duration, 1):
                case (ProtoKind.IntOrString, 1):
                    Expect(message, field, wire, WireFormat.WireType.Varint);
                    number = input.ReadInt64();
                    seconds = number;
                    break;
                case (ProtoKind.Time or ProtoKind.MicroTime, 2):
                    Expect(message, field, wire, WireFormat.WireType.Varint);
                    nanos = input.ReadInt32();
                    break;
                case (ProtoKind.IntOrString, 2):
                    Expect(message, field, wire, WireFormat.WireType.Varint);
                    intVal = input.ReadInt32();
                    break;
                case (ProtoKind.IntOrString, 3):
                case (ProtoKind.Quantity, 1):
                    Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
                    text = Utf8(message, field, Bytes(input));
                    break;
                case (ProtoKind.RawJson, 1):
                    Expect(message, field, wire, WireFormat.WireType.LengthDelimited);
                    raw = Bytes(input);
                    break;
                case (ProtoKind.Slice, 1):
                    ReadRepeated(items, field.Message!, field.Message!.Fields[0], input, wire, depth);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return field.Kind switch
        {
            // An empty Time is Go's zero time, which encoding/json writes as null.
            ProtoKind.Time or ProtoKind.MicroTime => data.Length == 0 ? null : ProtoTime.Format(seconds, nanos, field.Kind == ProtoKind.MicroTime),
            ProtoKind.Duration => ProtoTime.FormatDuration(number),
            ProtoKind.IntOrString => number == 1 ? text : intVal,
            ProtoKind.Quantity => text.Length == 0 ? "0" : text,
            ProtoKind.RawJson => Raw(message, field, raw, depth),
            _ => items,
        };
    }

    /// <summary>
    /// A RawExtension's or FieldsV1's bytes: JSON, or (an embedded object that a protobuf client
    /// wrote) a Kubernetes protobuf envelope of its own.
    /// </summary>
    private static JsonNode? Raw(ProtoMessage message, ProtoField field, ReadOnlyMemory<byte> raw, int depth)
    {
        if (raw.Length == 0)
        {
            return null;
        }
        if (raw.Span.StartsWith(ProtoEnvelope.Magic))
        {
            return ProtoEnvelope.Decode(raw, depth + 1);
        }
        try
        {
            return JsonNode.Parse(raw.Span, documentOptions: new JsonDocumentOptions { MaxDepth = RequestLimits.MaxDepth });
        }
        catch (JsonException e)
        {
            throw new FormatException($"field {field.JsonName} of {message.Name} holds neither JSON nor a protobuf object: {e.Message}");
        }
    }

    private static void Expect(ProtoMessage message, ProtoField field, WireFormat.WireType wire, WireFormat.WireType expected)
    {
        if (wire != expected)
        {
            throw new FormatException($"field {field.Number} ({field.JsonName}) of {message.Name} has wire type {(int)wire}, not {(int)expected}");
        }
    }

    private static string Utf8(ProtoMessage message, ProtoField field, ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"field {field.JsonName} of {message.Name} is not valid UTF-8");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static ReadOnlyMemory<byte> Bytes(CodedInputStream input) => input.ReadBytes().Memory;

    internal static CodedInputStream Input(ReadOnlyMemory<byte> data)
    {
        if (MemoryMarshal.TryGetArray(data, out var segment))
        {
            return new CodedInputStream(segment.Array!, segment.Offset, segment.Count);
        }
        return new CodedInputStream(data.ToArray());
    }
}
