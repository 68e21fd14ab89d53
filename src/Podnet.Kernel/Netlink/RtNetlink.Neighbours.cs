using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Core.Net;

namespace Podnet.Kernel.Netlink;

public sealed partial class RtNetlink
{
    private const int NdMsgLength = 12;

    public IReadOnlyList<NeighbourInfo> GetNeighbours(int linkIndex = 0, AddressFamily? family = null)
    {
        var message = new MessageWriter(Rtm.GetNeigh, Nlm.Dump);
        var header = message.Reserve(NdMsgLength);
        header[0] = FamilyByte(family);
        return Dump(message, "list neighbours", ParseNeighbour)
            .Where(n => linkIndex == 0 || n.LinkIndex == linkIndex)
            .ToArray();
    }

    /// <summary>Creates or replaces a permanent neighbour entry (static ARP/NDP).</summary>
    public void SetNeighbour(int linkIndex, IPAddress address, MacAddress mac)
    {
        var message = NeighbourMessage(Rtm.NewNeigh, Nlm.Create | Nlm.Replace, FamilyOf(address), linkIndex, NeighbourState.Permanent, 0);
        message.AttributeAddress(Nda.Dst, address);
        message.Attribute(Nda.LlAddr, mac.ToBytes());
        Execute(message, $"set neighbour {address} lladdr {mac} on #{linkIndex}");
    }

    public bool DeleteNeighbour(int linkIndex, IPAddress address)
    {
        var message = NeighbourMessage(Rtm.DelNeigh, 0, FamilyOf(address), linkIndex, NeighbourState.None, 0);
        message.AttributeAddress(Nda.Dst, address);
        return ExecuteDelete(message, $"delete neighbour {address} on #{linkIndex}");
    }

    /// <summary>FDB entries (bridge family), of one link or of all with index 0.</summary>
    public IReadOnlyList<FdbEntry> GetFdb(int linkIndex = 0)
    {
        var message = new MessageWriter(Rtm.GetNeigh, Nlm.Dump);
        var header = message.Reserve(NdMsgLength);
        header[0] = Af.Bridge;
        return Dump(message, "list fdb", ParseFdb)
            .Where(f => linkIndex == 0 || f.LinkIndex == linkIndex)
            .ToArray();
    }

    /// <summary>
    /// Adds a device-level ("self") FDB entry; for VXLAN, <paramref name="destination"/> is the
    /// remote endpoint. Several entries for one MAC may coexist (append), as for flooding.
    /// </summary>
    public void AppendFdb(int linkIndex, MacAddress mac, IPAddress? destination) =>
        FdbOperation(Rtm.NewNeigh, Nlm.Create | Nlm.Append, linkIndex, mac, destination, "append");

    /// <summary>Creates or replaces the device-level FDB entry for <paramref name="mac"/>.</summary>
    public void SetFdb(int linkIndex, MacAddress mac, IPAddress? destination) =>
        FdbOperation(Rtm.NewNeigh, Nlm.Create | Nlm.Replace, linkIndex, mac, destination, "set");

    public bool DeleteFdb(int linkIndex, MacAddress mac, IPAddress? destination)
    {
        try
        {
            FdbOperation(Rtm.DelNeigh, 0, linkIndex, mac, destination, "delete");
            return true;
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    private void FdbOperation(ushort type, ushort flags, int linkIndex, MacAddress mac, IPAddress? destination, string verb)
    {
        var message = NeighbourMessage(type, flags, Af.Bridge, linkIndex, NeighbourState.Permanent, Nda.FlagSelf);
        message.Attribute(Nda.LlAddr, mac.ToBytes());
        if (destination is not null)
        {
            message.AttributeAddress(Nda.Dst, destination);
        }
        Execute(message, $"{verb} fdb {mac}{(destination is null ? "" : $" dst {destination}")} on #{linkIndex}");
    }

    private static MessageWriter NeighbourMessage(ushort type, ushort flags, byte family, int linkIndex, NeighbourState state, byte ntfFlags)
    {
        var message = new MessageWriter(type, (ushort)(flags | Nlm.Ack));
        var header = message.Reserve(NdMsgLength);
        header[0] = family;
        WriteI32(header, 4, linkIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], (ushort)state);
        header[10] = ntfFlags;
        return message;
    }

    private static byte FamilyOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? Af.Inet : Af.Inet6;

    private static NeighbourInfo? ParseNeighbour(ushort type, ReadOnlySpan<byte> payload)
    {
        if (type != Rtm.NewNeigh || payload.Length < NdMsgLength || payload[0] is not (Af.Inet or Af.Inet6))
        {
            return null;
        }
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var state = (NeighbourState)BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]);
        IPAddress? address = null;
        MacAddress? mac = null;
        foreach (var a in new AttributeReader(payload[NdMsgLength..]))
        {
            if (a.Type == Nda.Dst) address = a.Address;
            if (a.Type == Nda.LlAddr && a.Value.Length == 6) mac = MacAddress.FromBytes(a.Value);
        }
        return address is null ? null : new NeighbourInfo(index, address, mac, state);
    }

    private static FdbEntry? ParseFdb(ushort type, ReadOnlySpan<byte> payload)
    {
        if (type != Rtm.NewNeigh || payload.Length < NdMsgLength || payload[0] != Af.Bridge)
        {
            return null;
        }
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var state = (NeighbourState)BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]);
        var self = (payload[10] & Nda.FlagSelf) != 0;
        IPAddress? destination = null;
        MacAddress? mac = null;
        foreach (var a in new AttributeReader(payload[NdMsgLength..]))
        {
            if (a.Type == Nda.Dst) destination = a.Address;
            if (a.Type == Nda.LlAddr && a.Value.Length == 6) mac = MacAddress.FromBytes(a.Value);
        }
        return mac is null ? null : new FdbEntry(index, mac.Value, destination, self, state);
    }
}
