using System.Text.Json.Nodes;
using Podnet.ApiServer.Http.Proto;

namespace Podnet.ApiServer.Tests.Protobuf;

/// <summary>
/// An object of a message with every field set to a value that is not zero, built from the
/// protobuf schema itself: lists of two, maps of two, both forms of IntOrString, both kinds of
/// time. A message that contains itself is cut at the second visit on a path.
/// </summary>
internal static class FullSamples
{
    public static JsonObject Of(ProtoMessage message) => Fill(new JsonObject(), message, [], 0);

    private static JsonObject Fill(JsonObject json, ProtoMessage message, HashSet<string> path, int salt)
    {
        if (!path.Add(message.Name))
        {
            return json;
        }
        foreach (var field in message.Fields)
        {
            if (field.Inline)
            {
                Fill(json, field.Message!, path, salt);
                continue;
            }
            if (field.Kind == ProtoKind.Message && path.Contains(field.Message!.Name))
            {
                continue;
            }
            if (field.Map)
            {
                json[field.JsonName] = new JsonObject { ["k1"] = Value(field, path, salt), ["k2"] = Value(field, path, salt + 1) };
            }
            else if (field.Repeated)
            {
                json[field.JsonName] = new JsonArray(Value(field, path, salt), Value(field, path, salt + 1));
            }
            else
            {
                json[field.JsonName] = Value(field, path, salt);
            }
        }
        path.Remove(message.Name);
        return json;
    }

    private static JsonNode Value(ProtoField field, HashSet<string> path, int salt) => field.Kind switch
    {
        ProtoKind.String => $"{field.JsonName}-{salt}",
        ProtoKind.Bytes => Convert.ToBase64String([1, 2, (byte)salt, 0xff]),
        ProtoKind.Bool => true,
        ProtoKind.Int32 => 7 + salt,
        ProtoKind.Int64 => 1234567890123 + salt,
        ProtoKind.Double => 1.5 + salt,
        ProtoKind.Float => 0.25f + salt,
        ProtoKind.Time => $"2024-05-06T07:08:{10 + salt}Z",
        ProtoKind.MicroTime => $"2024-05-06T07:08:09.{123456 + salt}Z",
        ProtoKind.Duration => $"1h2m{3 + salt}.5s",
        ProtoKind.Quantity => salt % 2 == 0 ? "250m" : "1Gi",
        ProtoKind.IntOrString => salt % 2 == 0 ? 8080 : "http",
        ProtoKind.RawJson => new JsonObject { ["f:metadata"] = new JsonObject { ["f:name"] = new JsonObject() }, ["n"] = salt },
        ProtoKind.Slice => new JsonArray($"a{salt}", $"b{salt}"),
        _ => Fill(new JsonObject(), field.Message!, path, salt),
    };
}
