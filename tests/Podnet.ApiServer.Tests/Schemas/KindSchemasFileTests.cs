using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Tests.Schemas;

public sealed class KindSchemasFileTests
{
    /// <summary>The guard that the server's schemas are KubernetesClient's: with PODNET_WRITE_SCHEMAS=1 it writes the file instead.</summary>
    [Fact]
    public void CheckedInFile_IsWhatKubernetesClientsModelsGenerate()
    {
        var generated = KindSchemasFile.Generate();
        var path = KindSchemasFile.SourcePath;
        if (Environment.GetEnvironmentVariable(KindSchemasFile.WriteVariable) == "1")
        {
            File.WriteAllText(path, generated);
        }
        var checkedIn = File.Exists(path) ? File.ReadAllText(path) : "";
        Assert.True(generated == checkedIn,
            $"{path} is not what KubernetesClient's models give (the package changed, or the file was edited); regenerate it with\n" +
            $"  {KindSchemasFile.WriteVariable}=1 dotnet test tests/Podnet.ApiServer.Tests -c Release --filter {nameof(KindSchemasFileTests)}\n" +
            "then rebuild, so that the server embeds it, and commit it.");
    }

    [Fact]
    public void EmbeddedFile_IsTheCheckedInOne()
    {
        using var embedded = KindSchemas.Open();
        using var checkedIn = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(KindSchemasFile.SourcePath));
        Assert.True(System.Text.Json.JsonElement.DeepEquals(checkedIn.RootElement, embedded.RootElement), "the server embeds another kinds.schemas.json than the checked-in one: rebuild");
    }

    [Fact]
    public void EveryServedKind_HasItsSchema_AndScaleToo()
    {
        using var file = KindSchemas.Open();
        var kinds = file.RootElement.GetProperty("kinds");
        var schemas = file.RootElement.GetProperty("schemas");
        foreach (var r in Registry.ResourceCatalog.Resources)
        {
            Assert.Equal(OpenApi.SchemaName(r), kinds.GetProperty(r.Key).GetString());
            Assert.True(schemas.TryGetProperty(OpenApi.SchemaName(r), out _), r.Key);
        }
        Assert.Equal("io.k8s.api.autoscaling.v1.Scale", kinds.GetProperty(KindSchemas.Scale).GetString());
        var spec = schemas.GetProperty("io.k8s.api.autoscaling.v1.ScaleSpec").GetProperty("properties").GetProperty("replicas");
        Assert.Equal("integer", spec.GetProperty("type").GetString());
        Assert.Contains("desired number of instances", spec.GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
