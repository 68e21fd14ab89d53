using Podnet.Controllers.Informers;

namespace Podnet.Controllers.Tests.Informers;

public sealed class BackoffAndQueueTests
{
    [Fact]
    public void Backoff_DoublesToTheCap_WithJitterInTheUpperHalf_AndResets()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(800), new Random(1));

        var delays = Enumerable.Range(0, 6).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        backoff.Reset();
        var afterReset = backoff.Next().TotalMilliseconds;

        double[] ceilings = [100, 200, 400, 800, 800, 800];
        for (var i = 0; i < delays.Count; i++)
        {
            Assert.InRange(delays[i], ceilings[i] / 2, ceilings[i]);
        }
        Assert.InRange(afterReset, 50, 100);
        Assert.True(delays.Distinct().Count() > 1);
    }

    [Fact]
    public async Task CoalescingQueue_ManyEnqueues_FewSyncs_KeysHandedOver()
    {
        var queue = new CoalescingQueue();
        var gate = new SemaphoreSlim(0);
        var syncs = new List<IReadOnlySet<string>?>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = queue.RunAsync(async (keys, ct) =>
        {
            syncs.Add(keys);
            await gate.WaitAsync(ct);
        }, new Backoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2)), null, cts.Token);

        queue.Enqueue("default/web");
        while (syncs.Count == 0)
        {
            await Task.Delay(5);
        }
        for (var i = 0; i < 1000; i++)
        {
            queue.Enqueue(i % 2 == 0 ? "default/a" : "default/b");
        }
        gate.Release();
        while (syncs.Count < 2)
        {
            await Task.Delay(5);
        }
        gate.Release();
        await Task.Delay(50);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Equal(2, syncs.Count);
        Assert.Equal(["default/web"], syncs[0]!);
        Assert.Equal(["default/a", "default/b"], syncs[1]!.Order());
    }

    [Fact]
    public async Task CoalescingQueue_FailedSync_RetriedWithEverythingDirty()
    {
        var queue = new CoalescingQueue();
        var calls = new List<IReadOnlySet<string>?>();
        var errors = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = queue.RunAsync((keys, _) =>
        {
            calls.Add(keys);
            return calls.Count == 1 ? throw new InvalidOperationException("conflict") : Task.CompletedTask;
        }, new Backoff(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2)), _ => errors++, cts.Token);

        queue.Enqueue("default/web");
        while (calls.Count < 2)
        {
            await Task.Delay(5);
        }
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.Equal(1, errors);
        Assert.Null(calls[1]);
    }
}
