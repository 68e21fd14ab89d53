using System.Net;
using System.Net.Sockets;

namespace Podnet.Kernel.Netlink;

public sealed partial class RtNetlink
{
    private const int RtMsgLength = 12;
    private const uint RtnhFlagOnLink = 4;

    /// <summary>Routes of one table (main by default; 0 for every table), optionally of one family.</summary>
    public IReadOnlyList<RouteInfo> GetRoutes(AddressFamily? family = null, uint table = RouteInfo.MainTable)
    {
        var message = new MessageWriter(Rtm.GetRoute, Nlm.Dump);
        var header = message.Reserve(RtMsgLength);
        header[0] = FamilyByte(family);
        return Dump(message, "list routes", ParseRoute)
            .Where(r => table == 0 || r.Table == table)
            .ToArray();
    }

    public void AddRoute(RouteInfo route) =>
        Execute(RouteMessage(Rtm.NewRoute, Nlm.Create | Nlm.Excl, route), $"add route {Describe(route)}");

    /// <summary>Adds the route or replaces the one with the same destination, table and metric.</summary>
    public void ReplaceRoute(RouteInfo route) =>
        Execute(RouteMessage(Rtm.NewRoute, Nlm.Create | Nlm.Replace, route), $"replace route {Describe(route)}");

    public bool DeleteRoute(RouteInfo route) =>
        ExecuteDelete(RouteMessage(Rtm.DelRoute, 0, route), $"delete route {Describe(route)}");

    private static MessageWriter RouteMessage(ushort type, ushort flags, RouteInfo route)
    {
        var family = route.Destination.BaseAddress.AddressFamily;
        var message = new MessageWriter(type, (ushort)(flags | Nlm.Ack));
        var header = message.Reserve(RtMsgLength);
        header[0] = family == AddressFamily.InterNetwork ? Af.Inet : Af.Inet6;
        header[1] = (byte)route.Destination.PrefixLength;
        header[4] = route.Table < 256 ? (byte)route.Table : (byte)252; // RT_TABLE_COMPAT, with RTA_TABLE
        header[5] = type == Rtm.DelRoute ? (byte)0 : route.Protocol;
        header[6] = type == Rtm.DelRoute && route.Scope == RouteScope.Universe ? (byte)RouteScope.Nowhere : (byte)route.Scope;
        header[7] = (byte)route.Type;
        if (route.OnLink)
        {
            WriteU32(header, 8, RtnhFlagOnLink);
        }
        if (route.Destination.PrefixLength > 0)
        {
            message.AttributeAddress(Rta.Dst, route.Destination.BaseAddress);
        }
        message.AttributeU32(Rta.Table, route.Table);
        if (route.Gateway is not null)
        {
            message.AttributeAddress(Rta.Gateway, route.Gateway);
        }
        if (route.LinkIndex != 0)
        {
            message.AttributeU32(Rta.Oif, (uint)route.LinkIndex);
        }
        if (route.Metric is { } metric)
        {
            message.AttributeU32(Rta.Priority, metric);
        }
        if (route.PreferredSource is not null)
        {
            message.AttributeAddress(Rta.PrefSrc, route.PreferredSource);
        }
        return message;
    }

    private static RouteInfo? ParseRoute(ushort type, ReadOnlySpan<byte> payload)
    {
        if (type != Rtm.NewRoute || payload.Length < RtMsgLength)
        {
            return null;
        }
        var family = payload[0] == Af.Inet ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (payload[0] is not (Af.Inet or Af.Inet6))
        {
            return null;
        }
        int length = payload[1];
        uint table = payload[4];
        IPAddress? destination = null, gateway = null, source = null;
        var link = 0;
        uint? metric = null;
        foreach (var a in new AttributeReader(payload[RtMsgLength..]))
        {
            switch (a.Type)
            {
                case Rta.Dst: destination = a.Address; break;
                case Rta.Gateway: gateway = a.Address; break;
                case Rta.Oif: link = (int)a.U32; break;
                case Rta.Priority: metric = a.U32; break;
                case Rta.Table: table = a.U32; break;
                case Rta.PrefSrc: source = a.Address; break;
            }
        }
        destination ??= family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteInfo
        {
            Destination = new IPNetwork(Core.Net.IpMath.Mask(destination, length), length),
            Gateway = gateway,
            LinkIndex = link,
            Scope = (RouteScope)payload[6],
            Type = (RouteType)payload[7],
            Protocol = payload[5],
            Table = table,
            Metric = metric,
            PreferredSource = source,
            OnLink = (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]) & RtnhFlagOnLink) != 0,
        };
    }

    private static string Describe(RouteInfo route)
    {
        var text = route.Destination.ToString();
        if (route.Gateway is not null)
        {
            text += $" via {route.Gateway}";
        }
        if (route.LinkIndex != 0)
        {
            text += $" dev #{route.LinkIndex}";
        }
        if (route.Table != RouteInfo.MainTable)
        {
            text += $" table {route.Table}";
        }
        if (route.Metric is { } m)
        {
            text += $" metric {m}";
        }
        if (route.OnLink)
        {
            text += " onlink";
        }
        return text;
    }
}
