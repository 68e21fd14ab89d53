using System.CommandLine;
using System.Runtime.InteropServices;
using Podnet.TestServer;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet serve [--http-port N]… [--udp-port N]… [--name NAME]`: the built-in test server
/// (agnhost netexec's protocol) in this process's namespace, until SIGTERM or SIGINT.
/// </summary>
internal static class ServeCommand
{
    public const int DefaultHttpPort = 8080;
    public const int DefaultUdpPort = 8081;

    public static Command Create()
    {
        var http = new Option<int[]>("--http-port") { Description = $"An HTTP port to serve (repeatable; default {DefaultHttpPort} when no port is given).", AllowMultipleArgumentsPerToken = false };
        var udp = new Option<int[]>("--udp-port") { Description = $"A UDP port to serve (repeatable; default {DefaultUdpPort} when no port is given)." };
        var name = new Option<string>("--name") { Description = "The name the server answers with (default: the host name)." };
        var podsDir = new Option<string>("--pods-dir") { Description = "Serve every pod listed in this directory (one JSON file per pod, written by the node's agent) instead of this namespace." };
        var command = new Command("serve", "Run the built-in test server: HTTP /hostname /clientip /echo?msg= and UDP hostname, echo, clientip.")
        {
            http, udp, name, podsDir,
        };
        command.SetAction(async (parse, token) =>
        {
            if (parse.GetValue(podsDir) is { } directory)
            {
                await using var pods = new TestServerHost();
                using var stopping = new CancellationTokenSource();
                using var termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, stopping.Token);
                await new PodServerDirectory(directory, pods, line => Console.Error.WriteLine($"podnet serve: {line}")).RunAsync(linked.Token);
                return 0;
            }
            var httpPorts = parse.GetValue(http) ?? [];
            var udpPorts = parse.GetValue(udp) ?? [];
            if (httpPorts.Length == 0 && udpPorts.Length == 0)
            {
                httpPorts = [DefaultHttpPort];
                udpPorts = [DefaultUdpPort];
            }
            if (httpPorts.Concat(udpPorts).FirstOrDefault(p => p is < 1 or > 65535) is var bad and not 0)
            {
                Console.Error.WriteLine($"podnet serve: port {bad} is out of range (1-65535)");
                return 2;
            }
            var podName = parse.GetValue(name) ?? Environment.MachineName;
            await using var host = new TestServerHost();
            try
            {
                host.Add("serve", new TestServerSpec(podName, httpPorts, udpPorts), netns: null);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                Console.Error.WriteLine($"podnet serve: cannot listen: {e.Message}");
                return 1;
            }
            Console.Error.WriteLine($"podnet serve: {podName} on http {string.Join(',', httpPorts)} udp {string.Join(',', udpPorts)}");
            var stopped = new TaskCompletionSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.TrySetResult(); });
            using var registration = token.Register(() => stopped.TrySetResult());
            await stopped.Task;
            return 0;
        });
        return command;
    }
}
