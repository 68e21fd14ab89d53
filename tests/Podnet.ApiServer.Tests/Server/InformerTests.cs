using System.Net;
using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>The controllers' and agents' informer against the real server process, across a server restart.</summary>
public sealed class InformerTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-informer-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Informer_FollowsTheServer_AcrossARestartInTheMiddleOfAWatch()
    {
        var port = FreePort();
        var server = ServerProcess.Start(_state, port);
        try
        {
            using var client = server.Client();
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "inf-before" } });
            var informer = new Informer<V1Namespace>(ListWatches.Namespaces(client), new InformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1) });
            var added = new List<string>();
            var deleted = new List<string>();
            informer.AddHandlers(new InformerHandlers<V1Namespace>(
                OnAdd: n => { lock (added) added.Add(n.Metadata.Name); },
                OnDelete: n => { lock (deleted) deleted.Add(n.Metadata.Name); }));
            using var stop = new CancellationTokenSource();
            var run = informer.RunAsync(stop.Token);
            await informer.WaitForSyncAsync(stop.Token);
            Assert.NotNull(informer.Cache.Get(null, "inf-before"));
            Assert.NotNull(informer.Cache.Get(null, "default"));

            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "inf-watched" } });
            await Eventually(() => informer.Cache.Get(null, "inf-watched") is not null, "the watch delivers a new namespace");

            // The server goes away in the middle of the watch and comes back on the same port and state.
            Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(20)));
            server.Dispose();
            server = ServerProcess.Start(_state, port);
            using var after = server.Client();
            await after.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "inf-after" } });
            await after.CoreV1.DeleteNamespaceAsync("inf-before");
            await Eventually(() => informer.Cache.Get(null, "inf-after") is not null, "the informer resumes after the restart");
            await Eventually(() => informer.Cache.Get(null, "inf-before") is null || informer.Cache.Get(null, "inf-before")!.Metadata.DeletionTimestamp is not null, "a deletion after the restart reaches the cache");
            lock (added)
            {
                Assert.Single(added, n => n == "inf-after");
                Assert.Single(added, n => n == "inf-watched");
            }
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            server.Dispose();
        }
    }
}
