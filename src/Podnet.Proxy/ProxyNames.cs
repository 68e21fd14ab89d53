using System.Security.Cryptography;
using System.Text;

namespace Podnet.Proxy;

/// <summary>
/// The names of the proxy's nft objects: one table per family (<c>ip podnet-proxy</c>,
/// <c>ip6 podnet-proxy</c>), named so it can sit beside a real kube-proxy's <c>kube-proxy</c>
/// table. The layout and its reasons are in this project's README.
/// </summary>
public static class ProxyNames
{
    public const string Table = "podnet-proxy";

    // Base chains (priorities in ProxySkeleton).
    public const string NatPrerouting = "nat-prerouting";
    public const string NatOutput = "nat-output";
    public const string NatPostrouting = "nat-postrouting";
    public const string FilterInput = "filter-input";
    public const string FilterForward = "filter-forward";
    public const string FilterOutput = "filter-output";
    public const string FilterOutputPostDnat = "filter-output-post-dnat";

    // Regular chains of the skeleton.
    public const string Services = "services";
    public const string Masquerading = "masquerading";
    public const string ServiceEndpointsCheck = "service-endpoints-check";
    public const string NodePortEndpointsCheck = "nodeport-endpoints-check";
    public const string ClusterIPsCheck = "cluster-ips-check";
    public const string RejectChain = "reject-chain";

    // Maps and sets of the skeleton.
    public const string ServiceIPs = "service-ips";
    public const string ServiceNodePorts = "service-nodeports";
    public const string NoEndpointServices = "no-endpoint-services";
    public const string NoEndpointNodePorts = "no-endpoint-nodeports";
    public const string ClusterIPs = "cluster-ips";
    public const string NodePortIPs = "nodeport-ips";
    public const string Hairpin = "hairpin";

    /// <summary>The bit of the packet mark that asks for masquerade in postrouting (kube-proxy's too, but not shared: each table tests its own packets).</summary>
    public const string MasqueradeMark = "0x00004000";

    /// <summary>
    /// The chain that load-balances a ClusterIP over <paramref name="endpoints"/> equal slots
    /// (one per endpoint count in use, shared by every Service with that many endpoints).
    /// </summary>
    public static string Balance(int endpoints) => "balance-" + endpoints.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The same for NodePorts, which also mark for masquerade (traffic policy Cluster).</summary>
    public static string NodePortBalance(int endpoints) => "nodeport-balance-" + endpoints.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Slot <paramref name="index"/>: a chain and a map of the same name; the map gives, for each
    /// ClusterIP, protocol and port, the endpoint in that slot.
    /// </summary>
    public static string Slot(int index) => "slot-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The same for NodePorts (keyed by protocol and node port).</summary>
    public static string NodePortSlot(int index) => "nodeport-slot-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A ClientIP-affinity Service port's own chain: its kind ("svc", "svx", "svl") + "-" + 8 base32 characters of a SHA-256 of
    /// the port's identity + "-ns/name/proto/port". Worst case 4 + 8 + 1 + 63 + 1 + 63 + 1 + 4 + 1
    /// + 5 = 151 characters, within nft's 256.
    /// </summary>
    public static string AffinityChain(string ns, string name, string protocol, int port, string kind = ClusterAffinity) =>
        $"{kind}-{Hash($"{ns}/{name}/{protocol}/{port}")}-{ns}/{name}/{protocol}/{port}";

    /// <summary>Affinity chains by the endpoints they hold: the ClusterIP's, the external side's over every endpoint, its over this node's (externalTrafficPolicy Local).</summary>
    public const string ClusterAffinity = "svc", ExternalAffinity = "svx", LocalAffinity = "svl";

    /// <summary>
    /// A Service port's external chain (source ranges, externalTrafficPolicy Local or ClientIP
    /// affinity on its external addresses and NodePort): "ext-" + the same hash and name as
    /// <see cref="AffinityChain"/>, 151 characters at most.
    /// </summary>
    public static string ExternalChain(string ns, string name, string protocol, int port) =>
        $"ext-{Hash($"{ns}/{name}/{protocol}/{port}")}-{ns}/{name}/{protocol}/{port}";

    /// <summary>The chain for external addresses (LoadBalancer ingress, externalIPs) under traffic policy Cluster: mark for masquerade, then the balance chain.</summary>
    public static string ExternalBalance(int endpoints) => "external-balance-" + endpoints.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The dynamic map from client address to the endpoint it went to: "aff-" + the chain's hash.</summary>
    public static string AffinityMap(string servicePortChain) => "aff-" + Hash(servicePortChain);

    /// <summary>The dynamic set of clients that went to one endpoint (IPv6): "aff-" + hash of the chain and endpoint.</summary>
    public static string AffinitySet(string servicePortChain, string endpoint) => "aff-" + Hash(servicePortChain + "|" + endpoint);

    private static string Hash(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var chars = new char[8];
        ulong bits = BitConverter.ToUInt64(digest);
        for (var i = 0; i < 8; i++)
        {
            chars[i] = alphabet[(int)(bits & 31)];
            bits >>= 5;
        }
        return new string(chars);
    }
}
