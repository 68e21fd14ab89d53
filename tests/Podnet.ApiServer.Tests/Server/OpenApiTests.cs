using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tests.Schemas;

namespace Podnet.ApiServer.Tests.Server;

public sealed class OpenApiTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    /// <summary>
    /// What each group-version's document serves is what the models give, made as the server
    /// made it from them before it read the file instead: every kind's schema, then what it
    /// refers to, in the order they were made, the kind's with its group-version-kind.
    /// </summary>
    [Fact]
    public async Task ServedComponents_AreTheModelsSchemas_InTheOrderTheyWereMade()
    {
        var index = JsonNode.Parse(await server.Http.GetStringAsync("openapi/v3"))!["paths"]!.AsObject();
        foreach (var gv in ResourceCatalog.Resources.GroupBy(r => r.Group.Length == 0 ? "api/v1" : $"apis/{r.Group}/{r.Version}"))
        {
            var expected = new JsonObject();
            foreach (var r in gv)
            {
                var name = OpenApi.SchemaName(r);
                new SchemaWriter(expected, name[..name.LastIndexOf('.')]).Add(KindSchemasFile.ModelOf(r.Key), name);
                expected[name]!["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = r.Group, ["version"] = r.Version, ["kind"] = r.Kind });
            }
            var url = (string)index[gv.Key]!["serverRelativeURL"]!;
            var document = JsonNode.Parse(await server.Http.GetStringAsync(url.TrimStart('/')))!;
            Assert.Equal(expected.ToJsonString(), document["components"]!["schemas"]!.ToJsonString());
        }
    }

    [Fact]
    public void KindTheFileLacks_GetsTheTopLevelSchema()
    {
        using var file = JsonDocument.Parse("""{"kinds":{},"schemas":{}}""");
        var components = new OpenApi.Components(file.RootElement);
        components.AddKind(ResourceCatalog.ConfigMaps);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            components.WriteTo(writer);
        }
        var schema = JsonNode.Parse(buffer.WrittenSpan)!["io.k8s.api.core.v1.ConfigMap"]!;
        Assert.Equal(["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"], schema["properties"]!.AsObject().Select(p => p.Key));
        Assert.True((bool)schema["properties"]!["data"]!["x-kubernetes-preserve-unknown-fields"]!);
        Assert.Equal("""[{"group":"","version":"v1","kind":"ConfigMap"}]""", schema["x-kubernetes-group-version-kind"]!.ToJsonString());
    }
}
