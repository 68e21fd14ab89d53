using System.Net;
using Podnet.Core.Net;

namespace Podnet.Kernel.IntegrationTests;

/// <summary>
/// Gratuitous ARP and unsolicited neighbour advertisements on a real link: a neighbour holding a
/// stale entry for the address (another node's link-layer address) takes the announcer's at once.
/// </summary>
public sealed class NeighbourAnnouncerTests
{
    [PrivilegedTheory]
    [InlineData("10.9.0.100", "32")]
    [InlineData("fd00:9::100", "128")]
    public async Task Announce_MovesTheNeighboursEntry(string address, string length)
    {
        using var scope = new NetnsScope();
        var node = scope.Create("annc");
        var peer = scope.Create("peer");
        node.Rt.CreateVeth("a0", "b0", peer.Netns);
        node.Rt.SetUp("a0");
        peer.Rt.SetUp("b0");
        node.Rt.AddAddress("a0", AddressPrefix.Parse("10.9.0.1/24"));
        node.Rt.AddAddress("a0", AddressPrefix.Parse("fd00:9::1/64"));
        peer.Rt.AddAddress("b0", AddressPrefix.Parse("10.9.0.2/24"));
        peer.Rt.AddAddress("b0", AddressPrefix.Parse("fd00:9::2/64"));
        var set = Tools.Run(peer.Netns, "ip", "neigh", "replace", address, "lladdr", "02:00:00:00:00:99", "dev", "b0", "nud", "stale");
        Assert.True(set.Success, set.StandardError);
        node.Rt.AddAddress("a0", AddressPrefix.Parse($"{address}/{length}"));
        var mac = (string)Tools.Ip(node.Netns, "link", "show", "a0")[0]!["address"]!;

        NeighbourAnnouncer.Announce(node.Netns, "a0", IPAddress.Parse(address));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? seen;
        while ((seen = (string?)Tools.Ip(peer.Netns, "neigh", "show", address, "dev", "b0").FirstOrDefault()?["lladdr"]) != mac)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the neighbour still holds {seen} for {address}, not {mac}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public void Advertisement_ChecksumVerifies()
    {
        var packet = NeighbourAnnouncer.Advertisement([2, 0, 0, 0, 0, 1], IPAddress.Parse("fd00:172:18::200"));
        // The one's complement sum over pseudo-header and message, checksum included, is 0xffff.
        uint sum = 0;
        void Add(ReadOnlySpan<byte> b)
        {
            for (var i = 0; i < b.Length; i += 2)
            {
                sum += (uint)(b[i] << 8 | b[i + 1]);
            }
        }
        Add(packet.AsSpan(8, 32));
        Add([0, 0, 0, 32, 0, 0, 0, 58]);
        Add(packet.AsSpan(40));
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        Assert.Equal(0xffffu, sum);
        Assert.Equal(255, packet[7]);
        Assert.Equal(136, packet[40]);
    }
}
