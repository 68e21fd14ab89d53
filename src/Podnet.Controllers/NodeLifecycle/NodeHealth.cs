namespace Podnet.Controllers.NodeLifecycle;

/// <summary>
/// What the controller last saw of a node's heartbeat (the later of its Lease's renewTime and
/// its Ready condition's lastHeartbeatTime), and when, by its own clock, it saw that value
/// change.
/// </summary>
/// <remarks>
/// As upstream's node lifecycle controller, the grace period runs from <see cref="ProbedAt"/>,
/// the controller's own time of observation, not from the heartbeat's timestamp: a skewed node
/// clock, or a controller that starts after a long stop and finds old Leases, then does not
/// mark healthy nodes Unknown. A node first seen gets a whole grace period.
/// </remarks>
public sealed record NodeHealth(DateTime? Heartbeat, DateTime ProbedAt)
{
    /// <summary>The next observation: the probe time moves to <paramref name="now"/> when the heartbeat changed (or was never seen).</summary>
    public static NodeHealth Observe(NodeHealth? previous, DateTime? heartbeat, DateTime now) =>
        previous is not null && previous.Heartbeat == heartbeat ? previous : new NodeHealth(heartbeat, now);

    /// <summary>True when no new heartbeat has been seen for longer than <paramref name="grace"/>.</summary>
    public bool Stale(DateTime now, TimeSpan grace) => now - ProbedAt > grace;
}
