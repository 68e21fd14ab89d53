using System.Text.Json.Nodes;
using Google.Protobuf;

namespace Podnet.ApiServer.Http.Proto;

/// <summary>
/// Kubernetes' protobuf envelope: the 4 bytes "k8s\0", then a runtime.Unknown message
/// {1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own message), 3 contentEncoding,
/// 4 contentType}. The kind named in typeMeta picks the message from <see cref="ProtoSchema"/>.
/// </summary>
internal static class ProtoEnvelope
{
    public static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>The object as the envelope; a kind without a protobuf message is a <see cref="NotSupportedException"/>.</summary>
    public static byte[] Encode(JsonObject obj)
    {
        var apiVersion = (string?)obj["apiVersion"] ?? "";
        var kind = (string?)obj["kind"] ?? "";
        var message = ProtoSchema.Instance.Find(apiVersion, kind) ?? throw new NotSupportedException($"{apiVersion} {kind} has no protobuf encoding");
        return Wrap(apiVersion, kind, ProtoWriter.Message(message, obj));
    }

    public static byte[] Wrap(string apiVersion, string kind, byte[] raw)
    {
        using var buffer = new MemoryStream(raw.Length + 32);
        buffer.Write(Magic);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        using (var typeMetaBuffer = new MemoryStream())
        {
            var typeMeta = new CodedOutputStream(typeMetaBuffer, leaveOpen: true);
            typeMeta.WriteTag(1, WireFormat.WireType.LengthDelimited);
            typeMeta.WriteString(apiVersion);
            typeMeta.WriteTag(2, WireFormat.WireType.LengthDelimited);
            typeMeta.WriteString(kind);
            typeMeta.Flush();
            ProtoWriter.WriteLengthDelimited(output, 1, typeMetaBuffer.ToArray());
        }
        ProtoWriter.WriteLengthDelimited(output, 2, raw);
        // contentEncoding and contentType, empty: upstream's Unknown.Marshal writes both.
        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
        output.WriteString("");
        output.WriteTag(4, WireFormat.WireType.LengthDelimited);
        output.WriteString("");
        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>
    /// An envelope as JSON, apiVersion and kind first. 415 for a kind without a message, 400 for
    /// bytes that are not an envelope or do not parse.
    /// </summary>
    public static JsonObject Decode(ReadOnlyMemory<byte> data, int depth = 0)
    {
        if (!data.Span.StartsWith(Magic))
        {
            throw new FormatException("the protobuf body does not start with the Kubernetes magic number \"k8s\\0\"");
        }
        string apiVersion = "", kind = "";
        ReadOnlyMemory<byte> raw = default;
        try
        {
            var input = ProtoReader.Input(data[4..]);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag), WireFormat.GetTagWireType(tag))
                {
                    case (1, WireFormat.WireType.LengthDelimited):
                        var typeMeta = ProtoReader.Input(input.ReadBytes().Memory);
                        uint t;
                        while ((t = typeMeta.ReadTag()) != 0)
                        {
                            switch (WireFormat.GetTagFieldNumber(t), WireFormat.GetTagWireType(t))
                            {
                                case (1, WireFormat.WireType.LengthDelimited):
                                    apiVersion = typeMeta.ReadString();
                                    break;
                                case (2, WireFormat.WireType.LengthDelimited):
                                    kind = typeMeta.ReadString();
                                    break;
                                default:
                                    typeMeta.SkipLastField();
                                    break;
                            }
                        }
                        break;
                    case (2, WireFormat.WireType.LengthDelimited):
                        raw = input.ReadBytes().Memory;
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException($"the protobuf envelope does not parse: {e.Message}");
        }
        var message = ProtoSchema.Instance.Find(apiVersion, kind)
            ?? throw new NotSupportedException($"no protobuf message is known for {(apiVersion.Length == 0 ? "an object without apiVersion" : apiVersion)} {kind}");
        JsonObject body;
        try
        {
            body = ProtoReader.Message(message, raw, depth);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FormatException($"the protobuf {kind} does not parse: {e.Message}");
        }
        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (name, value) in body.ToList())
        {
            body.Remove(name);
            obj[name] = value;
        }
        return obj;
    }
}
