using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Podnet.TestServer;

/// <summary>What a connection attempt found, in agnhost connect's words.</summary>
public enum ConnectOutcome
{
    Connected,
    Refused,
    Timeout,
    Other,
}

public sealed record ConnectResult(ConnectOutcome Outcome, string? Error = null)
{
    /// <summary>CONNECTED, REFUSED, TIMEOUT, or "OTHER: error".</summary>
    public override string ToString() => Outcome switch
    {
        ConnectOutcome.Connected => "CONNECTED",
        ConnectOutcome.Refused => "REFUSED",
        ConnectOutcome.Timeout => "TIMEOUT",
        _ => $"OTHER: {Error}",
    };
}

/// <summary>
/// One connection attempt, like agnhost connect: TCP counts an established connection; UDP
/// sends "hostname" and counts any reply (an ICMP port-unreachable is REFUSED).
/// </summary>
public static class ConnectProbe
{
    public static async Task<ConnectResult> RunAsync(string host, int port, ProtocolType protocol, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
                ? literal
                : (await Dns.GetHostAddressesAsync(host, deadline.Token)).First();
        }
        catch (OperationCanceledException)
        {
            return new ConnectResult(ConnectOutcome.Timeout);
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            return new ConnectResult(ConnectOutcome.Other, $"cannot resolve {host}: {e.Message}");
        }
        var endpoint = new IPEndPoint(address, port);
        try
        {
            return protocol == ProtocolType.Udp
                ? await UdpAsync(endpoint, deadline.Token)
                : await TcpAsync(endpoint, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            return new ConnectResult(ConnectOutcome.Timeout);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return new ConnectResult(ConnectOutcome.Refused);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            return new ConnectResult(ConnectOutcome.Timeout);
        }
        catch (SocketException e)
        {
            return new ConnectResult(ConnectOutcome.Other, e.Message);
        }
    }

    private static async Task<ConnectResult> TcpAsync(IPEndPoint endpoint, CancellationToken token)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint, token);
        return new ConnectResult(ConnectOutcome.Connected);
    }

    private static async Task<ConnectResult> UdpAsync(IPEndPoint endpoint, CancellationToken token)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(endpoint, token);
        await socket.SendAsync(Encoding.ASCII.GetBytes("hostname"), SocketFlags.None, token);
        var buffer = new byte[2048];
        await socket.ReceiveAsync(buffer, SocketFlags.None, token);
        return new ConnectResult(ConnectOutcome.Connected);
    }
}
