using k8s.Models;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Deployments;

public sealed class RolloutMathTests
{
    private static IntOrString? Ios(string? v) => v is null ? null : (IntOrString)v;

    [Theory]
    [InlineData("25%", "25%", 10, 3, 2)]
    [InlineData(null, null, 10, 3, 2)]
    [InlineData("25%", "25%", 1, 1, 0)]
    [InlineData("0", "0", 5, 0, 1)]
    [InlineData("0%", "0%", 5, 0, 1)]
    [InlineData("1", "0", 3, 1, 0)]
    [InlineData("50%", "50%", 3, 2, 1)]
    [InlineData("100%", "100%", 4, 4, 4)]
    [InlineData("2", "1", 0, 2, 1)]
    public void ResolveFenceposts_SurgeRoundsUp_UnavailableRoundsDown(string? surge, string? unavailable, int desired, int expectedSurge, int expectedUnavailable) =>
        Assert.Equal((expectedSurge, expectedUnavailable), RolloutMath.ResolveFenceposts(Ios(surge), Ios(unavailable), desired));

    [Theory]
    // desired, surge, all replicas, new replicas -> new size
    [InlineData(10, 3, 10, 0, 3)]
    [InlineData(10, 3, 13, 3, 3)]
    [InlineData(10, 3, 11, 3, 5)]
    [InlineData(3, 1, 3, 0, 1)]
    [InlineData(3, 0, 2, 0, 1)]
    [InlineData(5, 5, 0, 0, 5)]
    public void NewReplicaSetReplicas_GrowsWithinSurge(int desired, int surge, int all, int current, int expected) =>
        Assert.Equal(expected, RolloutMath.NewReplicaSetReplicas(desired, surge, all, current));

    [Fact]
    public void ScaleDownOld_UnhealthyFirst_ThenAvailableOldestFirst()
    {
        var t = new DateTime(2026, 1, 1);
        var newRs = new ReplicaSetCounts("new", 3, 3, t.AddHours(2));
        var old = new[] { new ReplicaSetCounts("older", 4, 2, t), new ReplicaSetCounts("old", 3, 3, t.AddHours(1)) };

        // desired 10, maxUnavailable 2: min available 8; available now 3+2+3 = 8.
        var result = RolloutMath.ScaleDownOld(10, 2, newRs, old);

        // Only the 2 unavailable pods of "older" may go: taking available ones would drop below 8.
        Assert.Equal(new Dictionary<string, int> { ["older"] = 2 }, result);
    }

    [Fact]
    public void ScaleDownOld_NewNotYetAvailable_HoldsOldPods()
    {
        var newRs = new ReplicaSetCounts("new", 3, 0, DateTime.MaxValue);
        var old = new[] { new ReplicaSetCounts("old", 10, 10, DateTime.MinValue) };

        Assert.Equal(new Dictionary<string, int> { ["old"] = 8 }, RolloutMath.ScaleDownOld(10, 2, newRs, old));
        Assert.Empty(RolloutMath.ScaleDownOld(10, 0, newRs, old));
    }
}
