namespace Podnet.Check;

/// <summary>What a probe can end in: a connection (or an answer), an active refusal (RST, ICMP unreachable), or silence.</summary>
public enum Outcome
{
    Connect,
    Refuse,
    Drop,
}

/// <summary>Where a probe runs: inside a check pod (by its name), or on the lab's outside host.</summary>
public sealed record ProbeSite(string? Pod)
{
    public static readonly ProbeSite Outside = new((string?)null);

    public static ProbeSite InPod(string name) => new(name);

    public override string ToString() => Pod ?? "outside";
}

/// <summary>The kinds of probe; each is one command (<see cref="ProbeCommands"/>).</summary>
public enum ProbeKind
{
    /// <summary>HTTP GET of <c>Target</c> (a URL) with curl.</summary>
    Http,

    /// <summary>One UDP datagram <c>hostname</c> to <c>Target</c> (HOST:PORT) and the first datagram back (netexec's UDP protocol).</summary>
    Udp,

    /// <summary>A DNS lookup of <c>Target</c> through the pod's resolv.conf; <c>Expect</c> is the address that must answer.</summary>
    Dns,

    /// <summary>Same, with the resolv.conf search path applied to a short name.</summary>
    DnsSearch,

    /// <summary>One ICMP echo to <c>Target</c>.</summary>
    Ping,

    /// <summary>One ICMP echo of the sender's full interface MTU with don't-fragment set.</summary>
    PingFullMtu,
}

/// <summary>One probe: from where, what, and how long to wait for an answer.</summary>
public sealed record Probe(ProbeSite From, ProbeKind Kind, string Target, TimeSpan Timeout, string? Expect = null);

/// <summary>
/// A test of the check: its name (what --test matches), the outcome it expects, and its probe;
/// a case with a <see cref="SkipReason"/> is reported and not run (the cluster lacks what it needs);
/// one with a <see cref="Failure"/> fails without a probe (what it needed should have been there).
/// </summary>
public sealed record CheckCase(string Name, Outcome Expected, Probe? Probe, string? SkipReason = null, string? Failure = null)
{
    public static CheckCase Skip(string name, Outcome expected, string reason) => new(name, expected, null, reason);

    public static CheckCase Fail(string name, Outcome expected, string failure) => new(name, expected, null, null, failure);
}

/// <summary>What a probe's command printed and how it ended.</summary>
public sealed record ExecOutput(int ExitCode, string StandardOutput, string StandardError, bool TimedOut = false);

/// <summary>What was observed: an outcome, or null when the probe ended otherwise (then <see cref="Evidence"/> says how).</summary>
public sealed record Observation(Outcome? Outcome, string Evidence);

/// <summary>One row of the table.</summary>
public sealed record CheckResult(string Name, Outcome Expected, Observation? Observed, TimeSpan Elapsed, string? SkipReason = null)
{
    public bool Skipped => SkipReason is not null;

    public bool Passed => Skipped || Observed?.Outcome == Expected;
}
