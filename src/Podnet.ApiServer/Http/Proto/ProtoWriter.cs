using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Podnet.ApiServer.Http.Proto;

/// <summary>
/// JSON → protobuf along a <see cref="ProtoMessage"/>: what the server stores (JSON) written as a
/// Go client's generated code would read it.
/// </summary>
/// <remarks>
/// Fields go out in field-number order, as gogo-protobuf's generated Marshal writes them; a
/// field absent or null in the JSON is not written (for a Go reader, absent is the zero value,
/// which is what the JSON meant). Map entries go out sorted by key, as upstream's. A nested
/// message is written to its own buffer first, because its length comes before it; a JSON field
/// the message does not have is not written (the server drops unknown fields when it decodes a
/// body, so none is stored; ProtobufCoverageTests keep the two schemas in step).
/// </remarks>
internal static class ProtoWriter
{
    public static byte[] Message(ProtoMessage message, JsonObject json)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        WriteFields(output, message, json);
        output.Flush();
        return buffer.ToArray();
    }

    private static void WriteFields(CodedOutputStream output, ProtoMessage message, JsonObject json)
    {
        foreach (var field in message.Fields)
        {
            if (field.Inline)
            {
                // An embedded struct: its fields are the parent's JSON fields.
                WriteLengthDelimited(output, field.Number, Message(field.Message!, json));
                continue;
            }
            var value = json[field.JsonName];
            if (value is null)
            {
                continue;
            }
            if (field.Map)
            {
                WriteMap(output, field, value.AsObject());
            }
            else if (field.Repeated)
            {
                foreach (var item in value.AsArray())
                {
                    if (item is not null)
                    {
                        WriteValue(output, field, item);
                    }
                }
            }
            else
            {
                WriteValue(output, field, value);
            }
        }
    }

    private static void WriteMap(CodedOutputStream output, ProtoField field, JsonObject map)
    {
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            using var buffer = new MemoryStream();
            var entry = new CodedOutputStream(buffer, leaveOpen: true);
            entry.WriteTag(1, WireFormat.WireType.LengthDelimited);
            entry.WriteString(key);
            if (value is not null)
            {
                WriteValue(entry, field with { Number = 2 }, value);
            }
            entry.Flush();
            WriteLengthDelimited(output, field.Number, buffer.ToArray());
        }
    }

    private static void WriteValue(CodedOutputStream output, ProtoField field, JsonNode value)
    {
        switch (field.Kind)
        {
            case ProtoKind.String:
                output.WriteTag(field.Number, WireFormat.WireType.LengthDelimited);
                output.WriteString(Text(value));
                break;
            case ProtoKind.Bytes:
                WriteLengthDelimited(output, field.Number, Convert.FromBase64String(Text(value)));
                break;
            case ProtoKind.Bool:
                output.WriteTag(field.Number, WireFormat.WireType.Varint);
                output.WriteBool(value.GetValue<bool>());
                break;
            case ProtoKind.Int32:
                output.WriteTag(field.Number, WireFormat.WireType.Varint);
                output.WriteInt32(checked((int)Integer(value)));
                break;
            case ProtoKind.Int64:
                output.WriteTag(field.Number, WireFormat.WireType.Varint);
                output.WriteInt64(Integer(value));
                break;
            case ProtoKind.Double:
                output.WriteTag(field.Number, WireFormat.WireType.Fixed64);
                output.WriteDouble(value.GetValue<double>());
                break;
            case ProtoKind.Float:
                output.WriteTag(field.Number, WireFormat.WireType.Fixed32);
                output.WriteFloat(value.GetValue<float>());
                break;
            case ProtoKind.Message:
                WriteLengthDelimited(output, field.Number, Message(field.Message!, value.AsObject()));
                break;
            default:
                WriteLengthDelimited(output, field.Number, Special(field, value));
                break;
        }
    }

    /// <summary>The messages whose JSON is not an object of their fields.</summary>
    private static byte[] Special(ProtoField field, JsonNode value)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        switch (field.Kind)
        {
            case ProtoKind.Time or ProtoKind.MicroTime:
                // Time keeps seconds only (upstream writes no nanos: its JSON has none);
                // MicroTime keeps microseconds.
                var (seconds, nanos) = ProtoTime.Parse(Text(value), field.Kind == ProtoKind.MicroTime);
                output.WriteTag(1, WireFormat.WireType.Varint);
                output.WriteInt64(seconds);
                if (nanos != 0)
                {
                    output.WriteTag(2, WireFormat.WireType.Varint);
                    output.WriteInt32(nanos);
                }
                break;
            case ProtoKind.Duration:
                output.WriteTag(1, WireFormat.WireType.Varint);
                output.WriteInt64(ProtoTime.ParseDuration(Text(value)));
                break;
            case ProtoKind.Quantity:
                output.WriteTag(1, WireFormat.WireType.LengthDelimited);
                output.WriteString(value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
                break;
            case ProtoKind.IntOrString:
                // All three fields, as upstream's IntOrString.Marshal writes them.
                var isString = value.GetValueKind() == JsonValueKind.String;
                output.WriteTag(1, WireFormat.WireType.Varint);
                output.WriteInt64(isString ? 1 : 0);
                output.WriteTag(2, WireFormat.WireType.Varint);
                output.WriteInt32(isString ? 0 : checked((int)Integer(value)));
                output.WriteTag(3, WireFormat.WireType.LengthDelimited);
                output.WriteString(isString ? value.GetValue<string>() : "");
                break;
            case ProtoKind.RawJson:
                output.WriteTag(1, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(UnsafeByteOperations.UnsafeWrap(Bodies.Utf8(value)));
                break;
            case ProtoKind.Slice:
                var items = field.Message!.Fields[0];
                foreach (var item in value.AsArray())
                {
                    if (item is not null)
                    {
                        WriteValue(output, items, item);
                    }
                }
                break;
        }
        output.Flush();
        return buffer.ToArray();
    }

    internal static void WriteLengthDelimited(CodedOutputStream output, int number, byte[] bytes)
    {
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
    }

    private static string Text(JsonNode value) =>
        value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : throw new FormatException($"expected a string, not {value.ToJsonString()}");

    private static long Integer(JsonNode value)
    {
        var v = value.AsValue();
        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }
        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }
        if (v.TryGetValue<double>(out var d) && d == Math.Floor(d))
        {
            return (long)d;
        }
        // A JsonElement-backed number reads as any numeric type it fits.
        return long.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
