using System.Text.Json.Nodes;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class StoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-store-unit-").FullName;

    private string Path => System.IO.Path.Combine(_directory, "state.db");

    [Fact]
    public async Task ResourceVersion_SurvivesReopen_AfterCreatesAndAfterDeletes()
    {
        long afterCreate, afterDelete;
        using (var store = new ObjectStore(Path, 100))
        {
            await store.WriteAsync(t => t.Put("configmaps", Obj("a")));
            await store.WriteAsync(t => t.Put("configmaps", Obj("b")));
            afterCreate = store.ResourceVersion;
        }
        using (var store = new ObjectStore(Path, 100))
        {
            // The last write was a create: its row carries the version.
            Assert.Equal(afterCreate, store.ResourceVersion);
            await store.WriteAsync(t => t.Delete("configmaps", Obj("b")));
            afterDelete = store.ResourceVersion;
            Assert.True(afterDelete > afterCreate);
        }
        using (var store = new ObjectStore(Path, 100))
        {
            // The last write removed the newest row: the version is still not reused.
            Assert.Equal(afterDelete, store.ResourceVersion);
            Assert.NotNull(store.Get("configmaps", "default", "a"));
            Assert.Null(store.Get("configmaps", "default", "b"));
            var c = await store.WriteAsync(t => t.Put("configmaps", Obj("c")));
            Assert.Equal(afterDelete + 1, c.ResourceVersion);
        }
    }

    [Fact]
    public async Task SecondOpen_OfALiveStore_IsRefused()
    {
        using var store = new ObjectStore(Path, 100);
        await store.WriteAsync(t => t.Put("configmaps", Obj("a")));
        // The server holds its database exclusively: a second server on the same state
        // directory cannot write behind its back.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var second = new ObjectStore(Path, 100);
            await second.WriteAsync(t => t.Put("configmaps", Obj("b")));
        });
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static JsonObject Obj(string name) => new() { ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" } };
}
