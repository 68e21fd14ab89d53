using System.Net;
using System.Net.Sockets;
using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Testing;

namespace Podnet.Kernel.IntegrationTests;

/// <summary>nflog: what an nft <c>log group</c> statement sends reaches a listener in the same namespace, with its prefix and headers.</summary>
public sealed class NflogTests
{
    [PrivilegedFact]
    public void LoggedPackets_ArriveWithPrefixAndHeaders_OthersDoNot()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("nflog");
        var table = new NftTable(NftFamily.Inet, "t");
        new NftRunner(ns.Netns).Apply(new NftTransaction().Add(table)
            .Add(table, new NftChain("out", new NftHookSpec(NftChainType.Filter, NftHook.Output, 0)))
            .AddRule(table, "out", "udp dport 9999 log prefix \"podnet-test \" group 100 drop"));
        using var listener = ns.Netns.Run(() => NflogListener.Open(100));
        using var udp = ns.Netns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        udp.SendTo("x"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, 9998));
        // A local packet dropped at output fails its send with EPERM: that is the drop.
        Assert.Throws<SocketException>(() => udp.SendTo("x"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, 9999)));
        var packets = new List<NflogPacket>();
        for (var i = 0; i < 3 && packets.Count == 0; i++)
        {
            packets.AddRange(listener.Receive());
        }
        var packet = Assert.Single(packets);
        Assert.Equal("podnet-test ", packet.Prefix);
        Assert.Equal(0x45, packet.Payload[0]);
        Assert.Equal(17, packet.Payload[9]);
        Assert.Equal(9999, (packet.Payload[22] << 8) | packet.Payload[23]);
        Assert.True(Math.Abs((DateTime.UtcNow - packet.Time).TotalSeconds) < 30, packet.Time.ToString("O"));
    }
}
