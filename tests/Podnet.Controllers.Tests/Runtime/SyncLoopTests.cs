using System.Threading.Channels;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Tests.Runtime;

public sealed class SyncLoopTests
{
    [Fact]
    public async Task FirstSyncIsFull_ThenOnlyTheMarkedKeys_AndAFailureIsRetriedAsAFullSync()
    {
        var seen = Channel.CreateUnbounded<SyncRequest>();
        var fail = 1;
        var gate = new SemaphoreSlim(0);
        var loop = new SyncLoop("test", async (request, ct) =>
        {
            await seen.Writer.WriteAsync(request, ct);
            if (!request.Full && fail-- > 0)
            {
                throw new InvalidOperationException("boom");
            }
            await gate.WaitAsync(ct);
        })
        {
            InitialBackoff = TimeSpan.FromMilliseconds(1),
            MaxBackoff = TimeSpan.FromMilliseconds(2),
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = loop.RunAsync(stop.Token);

        Assert.True((await seen.Reader.ReadAsync(stop.Token)).Full);
        loop.Wake("ns/a");
        loop.Wake("ns/b");
        gate.Release();
        var partial = await seen.Reader.ReadAsync(stop.Token);
        Assert.False(partial.Full);
        Assert.Equal(["ns/a", "ns/b"], partial.Keys!.Order());
        // That sync threw: the retry is a full one.
        Assert.True((await seen.Reader.ReadAsync(stop.Token)).Full);
        Assert.Equal(1, loop.Failures);
        gate.Release();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(2, loop.Syncs);
    }

    [Fact]
    public async Task ResyncPeriod_SyncsWithoutEvents()
    {
        var syncs = Channel.CreateUnbounded<SyncRequest>();
        var loop = new SyncLoop("test", (request, ct) => syncs.Writer.WriteAsync(request, ct).AsTask()) { ResyncPeriod = TimeSpan.FromMilliseconds(20) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = loop.RunAsync(stop.Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await syncs.Reader.ReadAsync(stop.Token)).Full);
        }
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}
