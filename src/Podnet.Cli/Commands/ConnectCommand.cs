using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Podnet.TestServer;

namespace Podnet.Cli.Commands;

/// <summary>`podnet connect HOST:PORT [--protocol tcp|udp] [--timeout 1s]`, like agnhost connect.</summary>
internal static class ConnectCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("HOST:PORT") { Description = "Where to connect: an address or name, and a port ([v6]:port for IPv6)." };
        var protocol = new Option<string>("--protocol") { Description = "tcp or udp.", DefaultValueFactory = _ => "tcp" };
        protocol.AcceptOnlyFromAmong("tcp", "udp");
        var timeout = new Option<string>("--timeout") { Description = "How long to wait (500ms, 1s, 2m).", DefaultValueFactory = _ => "1s" };
        var command = new Command("connect", "Try one connection and print CONNECTED, REFUSED, TIMEOUT or OTHER: <error>; exit 0 only when connected.")
        {
            target, protocol, timeout,
        };
        command.SetAction(async (parse, _) =>
        {
            var text = parse.GetValue(target)!;
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                Console.Error.WriteLine($"podnet connect: '{text}' is not HOST:PORT with a port from 1 to 65535");
                return 2;
            }
            if (!Durations.TryParse(parse.GetValue(timeout), out var wait) || wait <= TimeSpan.Zero)
            {
                Console.Error.WriteLine($"podnet connect: '{parse.GetValue(timeout)}' is not a duration (like 500ms, 1s, 2m)");
                return 2;
            }
            var kind = parse.GetValue(protocol) == "udp" ? ProtocolType.Udp : ProtocolType.Tcp;
            var result = await ConnectProbe.RunAsync(text[..colon], port, kind, wait);
            Console.WriteLine(result.ToString());
            return result.Outcome == ConnectOutcome.Connected ? 0 : 1;
        });
        return command;
    }
}
