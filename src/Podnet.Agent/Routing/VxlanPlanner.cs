using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Agent.Routing;

/// <summary>What one node's VXLAN overlay should look like.</summary>
/// <param name="Addresses">The device's own addresses: the first address of each of the node's pod CIDRs, as a host route (/32, /128).</param>
/// <param name="Peers">One entry per other node and pod CIDR.</param>
public sealed record VxlanPlan(string Device, uint Vni, int Port, int Mtu, MacAddress Mac, IPAddress Local, IReadOnlyList<AddressPrefix> Addresses, IReadOnlyList<VxlanPeer> Peers);

/// <summary>
/// Another node as the overlay reaches it: its pod CIDR is routed via <see cref="Gateway"/>
/// (that node's device address) onlink on the VXLAN device; the gateway resolves to
/// <see cref="Mac"/> by a permanent neighbour entry, and frames to that MAC are sent to
/// <see cref="NodeAddress"/> by an FDB entry. No flooding and no learning: every entry
/// comes from the Node objects.
/// </summary>
public sealed record VxlanPeer(string Node, IPNetwork PodCidr, IPAddress Gateway, MacAddress Mac, IPAddress NodeAddress);

/// <summary>
/// Plans the VXLAN overlay (UDP 4789) from the Node objects, the way flannel's vxlan backend
/// shapes it. The encapsulation costs 50 bytes over IPv4 and 70 over IPv6 (outer IP, UDP,
/// VXLAN and inner Ethernet headers), so the device and every pod get that much less MTU.
/// </summary>
public static class VxlanPlanner
{
    public const string Device = "pn-vxlan";
    public const uint Vni = 1;
    public const int Port = 4789;
    public const int OverheadIPv4 = 50;
    public const int OverheadIPv6 = 70;

    /// <summary>The MAC a node gives its VXLAN device: derived from its name, so it is stable across restarts.</summary>
    public static MacAddress MacFor(string node) =>
        MacAddress.LocalFrom(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("podnet-vtep/" + node)));

    public static int MtuFor(int underlayMtu, IPAddress underlay) =>
        underlayMtu - (underlay.AddressFamily == AddressFamily.InterNetwork ? OverheadIPv4 : OverheadIPv6);

    public static VxlanPlan Build(NodeInfo self, IPAddress local, int underlayMtu, IEnumerable<NodeInfo> nodes)
    {
        var addresses = self.PodCidrs.Select(c => new AddressPrefix(c.BaseAddress, IpMath.Width(c.BaseAddress.AddressFamily))).ToArray();
        var peers = new List<VxlanPeer>();
        foreach (var node in nodes.Where(n => n.Name != self.Name).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var address = node.InternalIPs.FirstOrDefault(a => a.AddressFamily == local.AddressFamily);
            if (node.VtepMac is not { } mac || address is null)
            {
                continue; // not on the overlay yet: its agent has not published its device
            }
            peers.AddRange(node.PodCidrs.Select(cidr => new VxlanPeer(node.Name, cidr, cidr.BaseAddress, mac, address)));
        }
        return new VxlanPlan(Device, Vni, Port, MtuFor(underlayMtu, local), MacFor(self.Name), local, addresses, peers);
    }
}
