using System.Net;
using System.Net.Sockets;

namespace Podnet.Core.Cluster;

/// <summary>
/// An EndpointSlice as the proxy and DNS read it: the Service it belongs to
/// (kubernetes.io/service-name), its address family, its ports (one entry per Service port name:
/// the numbers may differ between slices of one Service, which is how named targetPorts resolve
/// per endpoint), and its endpoints.
/// </summary>
/// <param name="ManagedBy">endpointslice.kubernetes.io/managed-by.</param>
public sealed record EndpointSliceInfo(
    string Namespace,
    string Name,
    string ServiceName,
    AddressFamily Family,
    IReadOnlyList<EndpointPortInfo> Ports,
    IReadOnlyList<EndpointInfo> Endpoints,
    string? ManagedBy = null)
{
    public string ServiceKey => Namespace + "/" + ServiceName;
}

/// <param name="Name">The Service port's name ("" for an unnamed one).</param>
public sealed record EndpointPortInfo(string Name, string Protocol, int Port, string? AppProtocol = null);

/// <summary>
/// One endpoint with its conditions as discovery/v1 defines them: <see cref="Ready"/> (serving and
/// not terminating, unless publishNotReadyAddresses), <see cref="Serving"/> (nil defers to ready),
/// <see cref="Terminating"/> (nil is false).
/// </summary>
/// <param name="TargetPod">"namespace/name" of the pod behind it, when it is one.</param>
public sealed record EndpointInfo(
    IReadOnlyList<IPAddress> Addresses,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? NodeName = null,
    string? Zone = null,
    string? Hostname = null,
    string? TargetPod = null)
{
    public IReadOnlyList<string> ZoneHints { get; init; } = [];

    public IReadOnlyList<string> NodeHints { get; init; } = [];
}
