using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Http.Proto;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Protobuf;

/// <summary>
/// The protobuf schema against what the server serves: every served kind and its list has a
/// message, every field the server's JSON schema knows has a protobuf field, and every message
/// survives JSON → protobuf → JSON with every field set.
/// </summary>
public sealed class ProtobufSchemaTests
{
    /// <summary>The kinds upstream never encodes in protobuf (Table: JSON and YAML only, as kube-apiserver's AllowsMediaTypeTransform).</summary>
    public static TheoryData<string> ServedKinds()
    {
        var data = new TheoryData<string>();
        foreach (var r in ResourceCatalog.Resources.Except(ResourceCatalog.JsonOnly))
        {
            data.Add($"{r.ApiVersion}/{r.Kind}");
            data.Add($"{r.ApiVersion}/{r.Kind}List");
        }
        foreach (var extra in new[] { "autoscaling/v1/Scale", "policy/v1/Eviction", "v1/Binding", "v1/Status", "v1/DeleteOptions", "apps/v1/DeleteOptions", "v1/WatchEvent" })
        {
            data.Add(extra);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ServedKinds))]
    public void ServedKind_HasAProtobufMessage(string kind)
    {
        var slash = kind.LastIndexOf('/');
        Assert.True(ProtoSchema.Instance.Find(kind[..slash], kind[(slash + 1)..]) is not null,
            $"{kind} is served but has no protobuf message: add it to scripts/protobuf-schema.py (KINDS) and regenerate Http/protobuf.schema.json");
    }

    [Fact]
    public void NetworkingKindsToCome_HaveTheirMessagesAlready()
    {
        foreach (var kind in new[] { "Ingress", "IngressClass", "ServiceCIDR", "IPAddress" })
        {
            Assert.NotNull(ProtoSchema.Instance.Find("networking.k8s.io/v1", kind));
            Assert.NotNull(ProtoSchema.Instance.Find("networking.k8s.io/v1", kind + "List"));
        }
    }

    /// <summary>Every field of the served kinds' JSON schema (KubernetesClient's models) has a protobuf field: none is lost on the way out.</summary>
    [Theory]
    [MemberData(nameof(ServedResources))]
    public void EveryJsonField_OfAServedKind_HasAProtobufField(string key)
    {
        var r = ResourceCatalog.Get(key);
        var shape = KindSchemas.ShapeOf(key)!;
        var message = ProtoSchema.Instance.Find(r.ApiVersion, r.Kind)!;
        var missing = new List<string>();
        Walk(shape, message, r.Kind, missing, []);
        Assert.True(missing.Count == 0, "fields without a protobuf field: " + string.Join(", ", missing));
    }

    public static TheoryData<string> ServedResources() => new(ResourceCatalog.Resources.Except(ResourceCatalog.JsonOnly).Select(r => r.Key));

    private static void Walk(Shape shape, ProtoMessage message, string path, List<string> missing, HashSet<(Shape, ProtoMessage)> seen)
    {
        if (shape.Properties is null || !seen.Add((shape, message)))
        {
            return;
        }
        var fields = Flatten(message).ToDictionary(f => f.JsonName);
        foreach (var (name, child) in shape.Properties)
        {
            // TypeMeta is never in protobuf, also where JSON nests an object with it (a
            // StatefulSet's volumeClaimTemplates), as upstream; and KubernetesClient's model has
            // one field k8s.io/api never had.
            if (name is "apiVersion" or "kind" || $"{path}.{name}" == "Node.status.nodeInfo.runningInUserNamespace")
            {
                continue;
            }
            if (!fields.TryGetValue(name, out var field))
            {
                missing.Add($"{path}.{name}");
                continue;
            }
            if (field.Kind != ProtoKind.Message)
            {
                continue;
            }
            var next = field.Map ? child.Values : field.Repeated ? child.Items : child;
            if (next is not null)
            {
                Walk(next, field.Message!, $"{path}.{name}", missing, seen);
            }
        }
    }

    private static IEnumerable<ProtoField> Flatten(ProtoMessage message) =>
        message.Fields.SelectMany(f => f.Inline ? Flatten(f.Message!) : [f]);

    public static TheoryData<string> AllMessages() => new(ProtoSchema.Instance.Messages.Keys.Where(m => !ProtoSchema.IsSpecial(m)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void Message_WithEveryFieldSet_RoundTrips(string name)
    {
        var message = ProtoSchema.Instance.Messages[name];
        var sample = FullSamples.Of(message);
        var bytes = ProtoWriter.Message(message, sample);
        var back = ProtoReader.Message(message, bytes);
        Assert.True(JsonNode.DeepEquals(sample, back), $"{name}:\n sent {sample.ToJsonString()}\n back {back.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(ServedKinds))]
    public void Kind_WithEveryFieldSet_RoundTripsThroughTheEnvelope(string kind)
    {
        var slash = kind.LastIndexOf('/');
        var (apiVersion, name) = (kind[..slash], kind[(slash + 1)..]);
        var sample = FullSamples.Of(ProtoSchema.Instance.Find(apiVersion, name)!);
        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = name };
        foreach (var (k, v) in sample.ToList())
        {
            sample.Remove(k);
            obj[k] = v;
        }
        var back = Http.Protobuf.Decode(Http.Protobuf.Encode(obj));
        Assert.True(JsonNode.DeepEquals(obj, back), $"{kind}:\n sent {obj.ToJsonString()}\n back {back.ToJsonString()}");
    }

    [Fact]
    public void EmbeddedSchema_IsTheCheckedInOne()
    {
        using var stream = typeof(ProtoSchema).Assembly.GetManifestResourceStream("Podnet.ApiServer.protobuf.schema.json")!;
        using var reader = new StreamReader(stream);
        var path = Path.Combine(Podnet.Testing.RepoPaths.Root, "src", "Podnet.ApiServer", "Http", "protobuf.schema.json");
        Assert.Equal(File.ReadAllText(path), reader.ReadToEnd());
    }
}
