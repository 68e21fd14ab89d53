using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>Real clients the lab tests send traffic with, from inside a namespace.</summary>
internal static class Probes
{
    /// <summary>An address as it sits in a URL or in a clientip answer: IPv6 in brackets.</summary>
    public static string Host(string address) => address.Contains(':') ? $"[{address}]" : address;

    /// <summary>curl's body for <paramref name="url"/>; the test fails with curl's error otherwise.</summary>
    public static string Curl(Netns from, string url)
    {
        var result = Tools.Run(from, "curl", "-sS", "--max-time", "5", url);
        Assert.True(result.Success, $"curl {url} from {from.Path}: {result.StandardError}");
        return result.StandardOutput;
    }

    /// <summary>The answer of the test server's UDP port to <paramref name="message"/> (netexec's protocol: hostname, echo, clientip).</summary>
    public static async Task<string> UdpAsync(Netns from, string address, int port, string message)
    {
        var ip = IPAddress.Parse(address);
        using var udp = from.Run(() => new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        await udp.ConnectAsync(ip, port);
        await udp.SendAsync(Encoding.ASCII.GetBytes(message));
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var n = await udp.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>The packet loss in percent `ping` reports for <paramref name="count"/> quick probes.</summary>
    public static double PingLoss(Netns from, string address, int count)
    {
        var result = Tools.Run(from, "ping", "-q", "-n", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.005", "-W", "2", address);
        var match = System.Text.RegularExpressions.Regex.Match(result.StandardOutput, @"([0-9.]+)% packet loss");
        Assert.True(match.Success, $"ping {address}: {result.StandardOutput}{result.StandardError}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
