using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// The pod-template-hash label, computed as upstream computes it: FNV-32a over the pod
/// template (plus the collision count when set), the decimal value re-encoded into
/// Kubernetes' vowel-free alphabet.
/// </summary>
/// <remarks>
/// Upstream feeds the hasher a Go pretty-print of the struct; Podnet feeds it the template's
/// JSON with object keys sorted (the pod-template-hash label left out), which is stable across
/// restarts and field order but gives other values than kube-controller-manager. Matching a
/// ReplicaSet to a Deployment therefore compares templates (<see cref="EqualIgnoringHash"/>),
/// as upstream does, so ReplicaSets made by a real controller manager are still recognised.
/// </remarks>
public static class PodTemplateHash
{
    public const string Label = "pod-template-hash";

    /// <summary>The 27 characters upstream draws random and hashed name parts from.</summary>
    public const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string Compute(V1PodTemplateSpec template, int? collisionCount = null)
    {
        var hash = Fnv32a(Encoding.UTF8.GetBytes(CanonicalJson(template)));
        if (collisionCount is { } count)
        {
            // Upstream writes the count as 4 little-endian bytes into an 8-byte buffer.
            Span<byte> bytes = stackalloc byte[8];
            bytes.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)count);
            hash = Fnv32a(bytes, hash);
        }
        return SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    public const uint FnvOffsetBasis = 2166136261u;

    /// <summary>FNV-1a, 32 bits, continuing from <paramref name="hash"/>.</summary>
    public static uint Fnv32a(ReadOnlySpan<byte> data, uint hash = FnvOffsetBasis)
    {
        foreach (var b in data)
        {
            hash = (hash ^ b) * 16777619u;
        }
        return hash;
    }

    /// <summary>Each character becomes the alphabet's character at its code modulo 27.</summary>
    public static string SafeEncode(string text) => string.Concat(text.Select(c => Alphabet[c % Alphabet.Length]));

    public static bool EqualIgnoringHash(V1PodTemplateSpec? a, V1PodTemplateSpec? b) =>
        a is not null && b is not null && CanonicalJson(a) == CanonicalJson(b);

    /// <summary>The template as JSON with sorted keys and without the pod-template-hash label.</summary>
    public static string CanonicalJson(V1PodTemplateSpec template)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(template))!;
        if (node["metadata"]?["labels"] is JsonObject labels)
        {
            labels.Remove(Label);
        }
        return Sorted(node)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>A deep copy of a template, through JSON.</summary>
    public static V1PodTemplateSpec Clone(V1PodTemplateSpec template) =>
        KubernetesJson.Deserialize<V1PodTemplateSpec>(KubernetesJson.Serialize(template));
}
