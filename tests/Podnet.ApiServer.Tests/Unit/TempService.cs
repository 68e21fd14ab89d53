using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>The REST layer over a real SQLite store in a temporary directory, without HTTP.</summary>
internal sealed class TempService : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-api-unit-").FullName;

    public TempService(string serviceCidr = "10.96.0.0/16", int watchWindow = 1000)
    {
        Store = new ObjectStore(Path.Combine(_directory, "state.db"), watchWindow);
        var cidrs = serviceCidr.Split(',').Select(c => IPNetwork.Parse(c)).ToList();
        var allocator = new ServiceAllocator(cidrs, 30000, 32767, new Random(1));
        Service = new ResourceService(Store, new AdmissionChain(allocator), TimeProvider.System);
        Service.CreateAsync(ResourceCatalog.Namespaces, null, Json("""{"metadata":{"name":"default"}}"""), false).GetAwaiter().GetResult();
    }

    public ObjectStore Store { get; }

    public ResourceService Service { get; }

    public static JsonObject Json(string text) => JsonNode.Parse(text)!.AsObject();

    public Task<JsonObject> Create(ResourceInfo r, string json) => Service.CreateAsync(r, r.Namespaced ? "default" : null, Json(json), false);

    /// <summary>The 422's causes as "field: message" lines.</summary>
    public async Task<List<string>> Invalid(ResourceInfo r, string json)
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => Create(r, json));
        Assert.Equal(422, error.Code);
        return error.Details!["causes"]!.AsArray().Select(c => $"{(string?)c!["field"]}: {(string?)c["message"]}").ToList();
    }

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
