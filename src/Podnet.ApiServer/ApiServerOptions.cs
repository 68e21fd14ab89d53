using System.Net;

namespace Podnet.ApiServer;

/// <summary>How <c>podnet server</c> runs: where its state lives and what it listens on.</summary>
public sealed record ApiServerOptions
{
    /// <summary>The controllers `--controllers` may name (they run in the control-plane process).</summary>
    public static readonly IReadOnlyList<string> KnownControllers = ["nodeipam", "scheduler", "deployments", "endpointslices", "loadbalancer", "namespaces", "statefulsets", "disruption", "nodelifecycle", "daemonsets", "endpoints", "serviceaccounts", "rootcacert"];

    public required string StateDirectory { get; init; }

    /// <summary>Port for every bind address; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 6443;

    public IReadOnlyList<IPAddress> BindAddresses { get; init; } = [IPAddress.Loopback];

    public IReadOnlyList<IPNetwork> ServiceCidrs { get; init; } = [IPNetwork.Parse("10.96.0.0/16")];

    public int NodePortMin { get; init; } = 30000;

    public int NodePortMax { get; init; } = 32767;

    public IReadOnlyList<string> Controllers { get; init; } = KnownControllers;

    /// <summary>
    /// Whether the server itself gives every namespace its `default` ServiceAccount and its
    /// `kube-root-ca.crt` ConfigMap (the lab's default). False makes it a bare kube-apiserver in
    /// this respect: the serviceaccounts and rootcacert controllers must then make them.
    /// </summary>
    public bool NamespaceDefaults { get; init; } = true;

    /// <summary>
    /// How many recent changes a watch can resume from before it gets 410 Expired (each change
    /// keeps the object before and after it in memory, so this bounds the window's memory).
    /// </summary>
    public int WatchWindow { get; init; } = 10_000;

    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>kube-apiserver's --max-requests-inflight: read-only requests (get, list) at once, watches not counted; 0 is no limit.</summary>
    public int MaxRequestsInFlight { get; init; } = 400;

    /// <summary>kube-apiserver's --max-mutating-requests-inflight: writes at once; 0 is no limit.</summary>
    public int MaxMutatingRequestsInFlight { get; init; } = 200;

    /// <summary>kube-apiserver's --request-timeout: a request (not a watch) still running after it is answered 504; zero is none.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A listening socket made elsewhere (the lab makes it inside the control-plane namespace,
    /// where this process does not live) and the address and port it listens on. The server
    /// serves it too, advertises it as the `kubernetes` Service's endpoint, puts it in the
    /// serving certificate, and writes a kubeconfig pointing at it for each of <see cref="LabNodes"/>.
    /// </summary>
    public LabListener? Lab { get; init; }

    /// <summary>
    /// The lab's nodes: with <see cref="Lab"/>, each gets STATE/kubeconfig-node-NAME pointing at
    /// the lab listener with a client certificate of the CA for system:node:NAME in
    /// system:nodes, its agent's identity.
    /// </summary>
    public IReadOnlyList<string> LabNodes { get; init; } = [];

    /// <summary>
    /// Makes the socket for a connection to a node's kubelet API (port 10250 on the node's
    /// address); the lab makes it inside the control-plane namespace, where the nodes are
    /// reachable. Null: an ordinary socket of this process's namespace.
    /// </summary>
    public Func<System.Net.Sockets.AddressFamily, System.Net.Sockets.Socket>? KubeletSocket { get; init; }

    /// <summary>
    /// The wire protocols of exec, attach and port-forward, asked in order which one serves a
    /// request (Streaming/StreamingContracts.cs); WebSocket, then SPDY/3.1, by default.
    /// </summary>
    public IReadOnlyList<Streaming.IStreamTransport>? StreamTransports { get; init; }

    /// <summary>
    /// kube-apiserver's --audit-log-path: every request's audit.k8s.io/v1 Event, one JSON line
    /// each, at level Metadata (Auth/AuditLog.cs). Null: no audit log.
    /// </summary>
    public string? AuditLogPath { get; init; }

    /// <summary>kube-apiserver's --authorization-mode: RBAC (the default) or AlwaysAllow (every authenticated request; benchmarks).</summary>
    public AuthorizationMode Authorization { get; init; } = AuthorizationMode.Rbac;

    /// <summary>Address the `kubernetes` Service's EndpointSlice points at: the lab address, else the first bind address that is not a wildcard.</summary>
    public IPAddress AdvertiseAddress =>
        Lab?.Address ?? BindAddresses.FirstOrDefault(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any)) ?? IPAddress.Loopback;

    /// <summary>Parses a duration as kube-apiserver's flags take it (Go's syntax): "1m0s", "60s", "1.5s", "500ms", "1h".</summary>
    public static TimeSpan ParseDuration(string text) => Core.Cluster.GoDuration.Parse(text);

    /// <summary>Parses "30000-32767".</summary>
    public static (int Min, int Max) ParsePortRange(string text)
    {
        var parts = text.Split('-');
        if (parts.Length == 2 && int.TryParse(parts[0], out var min) && int.TryParse(parts[1], out var max) && min >= 1 && max <= 65535 && min <= max)
        {
            return (min, max);
        }
        throw new FormatException($"'{text}' is not a port range like 30000-32767");
    }
}

public enum AuthorizationMode
{
    Rbac,
    AlwaysAllow,
}

/// <param name="Handle">The file descriptor of a bound, listening TCP socket.</param>
public sealed record LabListener(ulong Handle, IPAddress Address, int Port);
