using System.Text;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Http;

/// <summary>
/// Kubernetes' protobuf encoding, read for the few kinds kubectl's typed clients send that way
/// (`create` of namespace, configmap, secret, serviceaccount, service, deployment, pdb; the
/// Eviction of `kubectl drain`), turned into the JSON the rest of the server handles.
/// </summary>
/// <remarks>
/// The envelope is the 4-byte magic "k8s\0" and a runtime.Unknown message (1 typeMeta
/// {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType); raw is the object's own
/// message. Field numbers are those of k8s.io/api's generated.proto files. Any other kind is
/// answered 415 with the kinds that are understood, so a client knows to send JSON.
/// </remarks>
internal static partial class Protobuf
{
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static JsonObject Decode(byte[] data)
    {
        if (data.Length < 4 || !data.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw ApiException.BadRequest("the protobuf body does not start with the Kubernetes magic number");
        }
        string apiVersion = "", kind = "";
        ReadOnlyMemory<byte> raw = default;
        foreach (var (field, value) in Fields(data.AsMemory(4)))
        {
            if (field == 1)
            {
                foreach (var (f, v) in Fields(value))
                {
                    (apiVersion, kind) = f == 1 ? (Str(v), kind) : f == 2 ? (apiVersion, Str(v)) : (apiVersion, kind);
                }
            }
            else if (field == 2)
            {
                raw = value;
            }
        }
        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        if (TryDecodeAuth(apiVersion, kind, raw, obj))
        {
            return obj;
        }
        switch ((apiVersion, kind))
        {
            case ("v1", "Namespace"):
                Object(obj, raw, (f, v) => f == 2 && Repeated(v, 1) is { Count: > 0 } finalizers
                    ? ("spec", new JsonObject { ["finalizers"] = new JsonArray(finalizers.Select(s => (JsonNode)s).ToArray()) })
                    : null, 2, 3);
                break;
            case ("v1", "ConfigMap"):
                Object(obj, raw, (f, v) => f switch { 4 => ("immutable", Bool(v)), _ => null }, 2, 3);
                Maps(obj, raw, (2, "data", false), (3, "binaryData", true));
                break;
            case ("v1", "Secret"):
                Object(obj, raw, (f, v) => f switch { 3 => ("type", Str(v)), 5 => ("immutable", Bool(v)), _ => null }, 2, 4);
                Maps(obj, raw, (2, "data", true), (4, "stringData", false));
                break;
            case ("v1", "ServiceAccount"):
                Object(obj, raw, (f, v) => f == 4 ? ("automountServiceAccountToken", Bool(v)) : null);
                break;
            case ("v1", "Service"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", ServiceSpec(v)) : null, 3);
                break;
            case ("apps/v1", "Deployment"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", DeploymentSpec(v)) : null, 3);
                break;
            case ("policy/v1", "Eviction"):
                Object(obj, raw, (f, v) => f == 2 ? ("deleteOptions", DeleteOptions(v)) : null);
                break;
            case ("policy/v1", "PodDisruptionBudget"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", DisruptionBudgetSpec(v)) : null, 3);
                break;
            default:
                throw new ApiException(415, "UnsupportedMediaType", $"protobuf bodies are read for v1 Namespace, ConfigMap, Secret, ServiceAccount, Service, apps/v1 Deployment and policy/v1 Eviction and PodDisruptionBudget only, not {apiVersion} {kind}: send application/json");
        }
        return obj;
    }

    /// <summary>
    /// metadata (field 1) and the kind's own fields, which <paramref name="field"/> names; the
    /// fields in <paramref name="alsoRead"/> are read elsewhere (maps) or reset by the server
    /// (status). Any other field that carries a value is refused, never dropped.
    /// </summary>
    private static void Object(JsonObject obj, ReadOnlyMemory<byte> raw, Func<int, ReadOnlyMemory<byte>, (string, JsonNode)?> field, params int[] alsoRead)
    {
        foreach (var (f, v) in Fields(raw))
        {
            if (f == 1)
            {
                obj["metadata"] = Metadata(v);
            }
            else if (field(f, v) is var (name, value))
            {
                obj[name] = value;
            }
            else if (!alsoRead.Contains(f) && !IsEmpty(v))
            {
                throw new ApiException(415, "UnsupportedMediaType", $"protobuf field {f} of {(string?)obj["kind"]} is not read by this server: send application/json");
            }
        }
    }

    private static JsonObject Metadata(ReadOnlyMemory<byte> data)
    {
        var meta = new JsonObject();
        string[] names = ["", "name", "generateName", "namespace"];
        foreach (var (f, v) in Fields(data))
        {
            if (f is >= 1 and <= 3 && v.Length > 0)
            {
                meta[names[f]] = Str(v);
            }
            else if (f == 13 && v.Length > 0)
            {
                throw new ApiException(415, "UnsupportedMediaType", "protobuf bodies with ownerReferences are not read: send application/json");
            }
        }
        foreach (var (f, name) in new[] { (11, "labels"), (12, "annotations") })
        {
            var map = Map(data, f, binary: false);
            if (map.Count > 0)
            {
                meta[name] = map;
            }
        }
        var finalizers = Repeated(data, 14);
        if (finalizers.Count > 0)
        {
            meta["finalizers"] = new JsonArray(finalizers.Select(s => (JsonNode)s).ToArray());
        }
        return meta;
    }

    private static void Maps(JsonObject obj, ReadOnlyMemory<byte> raw, params (int Field, string Name, bool Binary)[] maps)
    {
        foreach (var (field, name, binary) in maps)
        {
            var map = Map(raw, field, binary);
            if (map.Count > 0)
            {
                obj[name] = map;
            }
        }
    }

    /// <summary>A map field: repeated entries of {1 key, 2 value}; binary values become base64, as in JSON.</summary>
    private static JsonObject Map(ReadOnlyMemory<byte> data, int field, bool binary)
    {
        var map = new JsonObject();
        foreach (var (f, entry) in Fields(data))
        {
            if (f != field)
            {
                continue;
            }
            string key = "", value = "";
            foreach (var (ef, ev) in Fields(entry))
            {
                (key, value) = ef == 1 ? (Str(ev), value) : ef == 2 ? (key, binary ? Convert.ToBase64String(ev.Span) : Str(ev)) : (key, value);
            }
            map[key] = value;
        }
        return map;
    }

    private static List<string> Repeated(ReadOnlyMemory<byte> data, int field) =>
        Fields(data).Where(p => p.Field == field).Select(p => Str(p.Value)).ToList();

    private static string Str(ReadOnlyMemory<byte> value) => Encoding.UTF8.GetString(value.Span);

    private static long Num(ReadOnlyMemory<byte> value) => value.Length == 8 ? BitConverter.ToInt64(value.Span) : 0;

    private static bool Bool(ReadOnlyMemory<byte> value) => Num(value) != 0;

    /// <summary>The fields of one message in order; a varint comes back as its 8 little-endian bytes.</summary>
    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        var span = message.Span;
        var i = 0;
        while (i < span.Length)
        {
            var tag = Varint(span, ref i);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add((field, BitConverter.GetBytes(Varint(span, ref i))));
                    break;
                case 1:
                    fields.Add((field, message.Slice(i, 8)));
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref i);
                    if (length < 0 || i + length > span.Length)
                    {
                        throw ApiException.BadRequest("the protobuf body is truncated");
                    }
                    fields.Add((field, message.Slice(i, length)));
                    i += length;
                    break;
                case 5:
                    fields.Add((field, message.Slice(i, 4)));
                    i += 4;
                    break;
                default:
                    throw ApiException.BadRequest($"the protobuf body has an unsupported wire type {tag & 7}");
            }
        }
        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (i >= span.Length)
            {
                throw ApiException.BadRequest("the protobuf body is truncated");
            }
            var b = span[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw ApiException.BadRequest("the protobuf body has a malformed varint");
    }
}
