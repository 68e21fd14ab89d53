using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Podnet.Agent.Runtime;
using Podnet.TestServer;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet agnhost SUBCOMMAND [FLAGS]`: the agnhost subcommands Podnet has, with agnhost's flags,
/// output and exit codes. A pod of the agnhost image finds this as /agnhost (a two-line script
/// the agent mounts there). The list is in src/Podnet.TestServer/README.md.
/// </summary>
internal static class AgnhostCommand
{
    public static Command Create()
    {
        var command = new Command("agnhost", $"Run an agnhost subcommand: {string.Join(", ", ContainerPlanner.BuiltInAgnhost)}.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, token) =>
        {
            var argv = parse.UnmatchedTokens.ToList();
            if (argv.Count == 0)
            {
                Console.Error.WriteLine($"agnhost: give a subcommand ({string.Join(", ", ContainerPlanner.BuiltInAgnhost)})");
                return 1;
            }
            var rest = argv.Skip(1).ToList();
            switch (argv[0])
            {
                case "connect":
                    return await ConnectAsync(rest);
                case "dns-suffix":
                    Console.WriteLine(string.Join(',', ResolvConf("search")));
                    return 0;
                case "dns-server-list":
                    Console.WriteLine(string.Join(',', ResolvConf("nameserver")));
                    return 0;
                case "etc-hosts":
                    Console.Write(File.ReadAllText("/etc/hosts"));
                    return 0;
                case "pause":
                    return await WaitForSignalAsync(token);
                case "netexec" or "serve-hostname":
                    return await ServeAsync(argv, token);
                case "porter":
                    return await PorterAsync(rest, token);
                case "test-webserver":
                    return await TestWebserverAsync(rest, token);
                default:
                    Console.Error.WriteLine($"agnhost {argv[0]} is not built into Podnet (built in: {string.Join(", ", ContainerPlanner.BuiltInAgnhost)})");
                    return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// agnhost connect HOST:PORT [--timeout=D] [--protocol=tcp|udp]: silent and 0 when connected;
    /// otherwise TIMEOUT, REFUSED or "OTHER: error" on stderr and exit 1, the words upstream's
    /// NetworkPolicy probes read.
    /// </summary>
    private static async Task<int> ConnectAsync(List<string> args)
    {
        string? target = null;
        var timeout = TimeSpan.FromSeconds(5);
        var protocol = "tcp";
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                target = arg;
                continue;
            }
            var name = arg.TrimStart('-');
            string? value = null;
            if (name.IndexOf('=') is var eq and >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            switch (name)
            {
                case "timeout" when Durations.TryParse(value, out var wait) && wait > TimeSpan.Zero:
                    timeout = wait;
                    break;
                case "protocol" when value is "tcp" or "udp":
                    protocol = value;
                    break;
                case "protocol":
                    Console.Error.WriteLine($"OTHER: protocol {value} is not supported by Podnet's agnhost (tcp and udp are)");
                    return 1;
                default:
                    Console.Error.WriteLine($"agnhost connect: bad flag {arg}");
                    return 1;
            }
        }
        var colon = target?.LastIndexOf(':') ?? -1;
        if (target is null || colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            Console.Error.WriteLine("usage: agnhost connect [host:port] [--timeout=DURATION] [--protocol=tcp|udp]");
            return 1;
        }
        var result = await ConnectProbe.RunAsync(target[..colon], port, protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp, timeout);
        if (result.Outcome == ConnectOutcome.Connected)
        {
            return 0;
        }
        Console.Error.WriteLine(result.ToString());
        return 1;
    }

    private static async Task<int> PorterAsync(List<string> args, CancellationToken token)
    {
        if (args.Count > 0)
        {
            Console.Error.WriteLine($"agnhost porter: {string.Join(' ', args)}: no arguments or flags are built into Podnet's porter (--json-response is not)");
            return 1;
        }
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, (string?)e.Value ?? ""));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            if (await AgnhostServers.PorterAsync(environment, stop.Token) is { } error)
            {
                Console.Error.WriteLine(error);
                return 1;
            }
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"agnhost porter: cannot listen: {e.Message}");
            return 1;
        }
        return 0;
    }

    private static async Task<int> TestWebserverAsync(List<string> args, CancellationToken token)
    {
        var port = 80;
        foreach (var arg in args)
        {
            var text = arg.StartsWith("--port=", StringComparison.Ordinal) ? arg["--port=".Length..] : arg.StartsWith("-port=", StringComparison.Ordinal) ? arg["-port=".Length..] : null;
            if (text is null || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                Console.Error.WriteLine($"agnhost test-webserver: bad flag {arg} (--port=N is its one flag)");
                return 1;
            }
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            await AgnhostServers.TestWebserverAsync(port, stop.Token);
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"agnhost test-webserver: cannot listen on {port}: {e.Message}");
            return 1;
        }
        return 0;
    }

    private static IEnumerable<string> ResolvConf(string key) =>
        File.ReadAllLines("/etc/resolv.conf")
            .Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length > 1 && p[0] == key)
            .SelectMany(p => p.Skip(1));

    private static async Task<int> ServeAsync(List<string> argv, CancellationToken token)
    {
        ContainerRun run;
        try
        {
            run = ContainerPlanner.Plan(new ContainerSpec("agnhost", "registry.k8s.io/e2e-test-images/agnhost", [], argv, []));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        if (run is not ContainerRun.BuiltInServer server)
        {
            return await WaitForSignalAsync(token);
        }
        await using var host = new TestServerHost();
        host.Add("agnhost", new TestServerSpec(Environment.MachineName, server.HttpPorts, server.UdpPorts, server.HostnameOnly), netns: null);
        return await WaitForSignalAsync(token);
    }

    private static async Task<int> WaitForSignalAsync(CancellationToken token)
    {
        var stopped = new TaskCompletionSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.TrySetResult(); });
        using var registration = token.Register(() => stopped.TrySetResult());
        await stopped.Task;
        return 0;
    }
}
