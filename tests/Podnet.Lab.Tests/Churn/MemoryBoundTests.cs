using Podnet.Churn;

namespace Podnet.Lab.Tests.Churn;

/// <summary>The churn report's memory bound: end at most 1.1 × middle, judged only for a process no fault restarted since the middle.</summary>
public sealed class MemoryBoundTests
{
    private static ChurnReport Report(params MemorySample[] samples) => new(10, [], 0, [], 1.0, samples, TimeSpan.FromSeconds(1));

    private static MemorySample Sample(string stage, params (string Name, long KiB, int Pid)[] processes) =>
        new(stage, processes.ToDictionary(p => p.Name, p => p.KiB), processes.ToDictionary(p => p.Name, p => p.Pid));

    [Fact]
    public void GrowthPastTenPercent_InTheSameProcess_BreaksTheBound_AndIsPrinted()
    {
        var report = Report(
            Sample("start", ("agent-n1", 30_000, 10), ("serve-n1", 5_000, 11)),
            Sample("middle", ("agent-n1", 40_000, 10), ("serve-n1", 10_000, 11)),
            Sample("end", ("agent-n1", 44_000, 10), ("serve-n1", 11_001, 11)));
        Assert.Equal([("serve-n1", 10_000L, 11_001L)], report.MemoryGrowth());
        Assert.Contains("BROKEN", report.Render(), StringComparison.Ordinal);
        Assert.Contains("GREW serve-n1", report.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void AProcessRestartedSinceTheMiddle_OrMissingAtEither_IsNotJudged()
    {
        var report = Report(
            Sample("middle", ("apiserver", 40_000, 20), ("agent-n2", 40_000, 21)),
            Sample("end", ("apiserver", 90_000, 99), ("controllers", 90_000, 30)));
        Assert.Empty(report.MemoryGrowth());
        Assert.Contains("held", report.Render(), StringComparison.Ordinal);
    }
}
