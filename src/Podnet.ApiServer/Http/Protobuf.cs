using System.Text.Json.Nodes;
using Google.Protobuf;
using Podnet.ApiServer.Http.Proto;

namespace Podnet.ApiServer.Http;

/// <summary>
/// Kubernetes' protobuf encoding (<c>application/vnd.kubernetes.protobuf</c>) at the HTTP edge:
/// bodies in, objects out, watch events; the codec itself is data-driven (Http/Proto/), one
/// schema for every kind, nothing written per kind.
/// </summary>
internal static class Protobuf
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    public const string WatchMediaType = "application/vnd.kubernetes.protobuf;stream=watch";

    /// <summary>A request body as the JSON the rest of the server handles: 400 if it does not parse, 415 for a kind without a protobuf message.</summary>
    public static JsonObject Decode(byte[] data)
    {
        try
        {
            return ProtoEnvelope.Decode(data);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest($"the protobuf body does not decode: {e.Message}");
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ApiException.BadRequest($"the protobuf body does not decode: {e.Message}");
        }
        catch (OverflowException e)
        {
            throw ApiException.BadRequest($"the protobuf body does not decode: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new ApiException(415, "UnsupportedMediaType", $"{e.Message}: send application/json");
        }
    }

    /// <summary>Whether the object (by its apiVersion and kind) has a protobuf encoding.</summary>
    public static bool CanEncode(JsonNode body) =>
        body is JsonObject o && ProtoSchema.Instance.Find((string?)o["apiVersion"] ?? "", (string?)o["kind"] ?? "") is not null;

    public static byte[] Encode(JsonObject body) => ProtoEnvelope.Encode(body);

    /// <summary>
    /// A stored version's envelope, encoded once for all the watchers that send it (each event
    /// reaches every subscription as the same object) and kept while that version is.
    /// </summary>
    public static byte[] Encode(Storage.StoredObject stored) => StoredEncodings.GetValue(stored, s => Encode(s.Parse()));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Storage.StoredObject, byte[]> StoredEncodings = new();

    /// <summary>
    /// One frame of a protobuf watch: a 4-byte big-endian length, then the envelope of a meta/v1
    /// WatchEvent {1 type, 2 object: RawExtension whose raw is the object's own envelope}.
    /// </summary>
    public static byte[] WatchFrame(string groupVersion, string type, byte[] objectEnvelope)
    {
        using var buffer = new MemoryStream(objectEnvelope.Length + 32);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString(type);
        using (var rawBuffer = new MemoryStream(objectEnvelope.Length + 8))
        {
            var raw = new CodedOutputStream(rawBuffer, leaveOpen: true);
            ProtoWriter.WriteLengthDelimited(raw, 1, objectEnvelope);
            raw.Flush();
            ProtoWriter.WriteLengthDelimited(output, 2, rawBuffer.ToArray());
        }
        output.Flush();
        var envelope = ProtoEnvelope.Wrap(groupVersion, "WatchEvent", buffer.ToArray());
        var frame = new byte[4 + envelope.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, envelope.Length);
        envelope.CopyTo(frame, 4);
        return frame;
    }
}
