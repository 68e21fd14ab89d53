using System.Globalization;

namespace Podnet.Agent.Runtime;

/// <summary>What a pod spec says of one container, as far as running it goes.</summary>
public sealed record ContainerSpec(string Name, string Image, IReadOnlyList<string> Command, IReadOnlyList<string> Args, IReadOnlyList<(int Port, string Protocol)> Ports);

/// <summary>How the agent runs a container.</summary>
public abstract record ContainerRun
{
    /// <summary>The command (and args) on the host's filesystem, inside the pod.</summary>
    public sealed record Process(IReadOnlyList<string> Argv) : ContainerRun;

    /// <summary>The built-in test server on these ports.</summary>
    public sealed record BuiltInServer(IReadOnlyList<int> HttpPorts, IReadOnlyList<int> UdpPorts, bool HostnameOnly) : ContainerRun;

    /// <summary>Nothing runs: the container only holds the pod (agnhost pause).</summary>
    public sealed record Pause : ContainerRun;
}

/// <summary>
/// Decides how to run a container, since the lab pulls no images. A container with a command
/// (or, with no command, args) runs that on the host's filesystem. A container with neither
/// gets the built-in server on each declared containerPort (TCP ports over HTTP, UDP ports
/// over UDP), or netexec's defaults (8080, 8081) when it declares none. agnhost images keep
/// their meaning: <c>netexec</c>, <c>serve-hostname</c> and <c>pause</c> run the built-in
/// equivalents with their flags, so upstream test manifests work.
/// </summary>
public static class ContainerPlanner
{
    public static ContainerRun Plan(ContainerSpec container)
    {
        var argv = container.Command.Concat(container.Args).ToList();
        if (IsAgnhost(container.Image))
        {
            if (argv.Count > 0 && Path.GetFileName(argv[0]) == "agnhost")
            {
                argv.RemoveAt(0);
            }
            if (argv.Count == 0)
            {
                return Default(container);
            }
            return argv[0] switch
            {
                "netexec" => Netexec(argv.Skip(1).ToList()),
                "serve-hostname" => ServeHostname(argv.Skip(1).ToList()),
                "pause" => new ContainerRun.Pause(),
                // Run by `podnet agnhost`, which the pod finds at /agnhost.
                "connect" or "porter" or "test-webserver" or "dns-suffix" or "dns-server-list" or "etc-hosts" => new ContainerRun.Process(["/agnhost", .. argv]),
                var other => throw new ArgumentException($"agnhost {other} is not built into Podnet (built in: {string.Join(", ", BuiltInAgnhost)})"),
            };
        }
        return argv.Count > 0 ? new ContainerRun.Process(argv) : Default(container);
    }

    /// <summary>The agnhost subcommands Podnet has (as containers' args and as /agnhost in the pod).</summary>
    public static readonly IReadOnlyList<string> BuiltInAgnhost = ["netexec", "serve-hostname", "pause", "connect", "porter", "test-webserver", "dns-suffix", "dns-server-list", "etc-hosts"];

    public static bool IsAgnhost(string image)
    {
        var name = image.Split('@')[0];
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        var repository = colon > slash ? name[(slash + 1)..colon] : name[(slash + 1)..];
        return repository == "agnhost";
    }

    private static ContainerRun Default(ContainerSpec container)
    {
        if (container.Ports.Count == 0)
        {
            return new ContainerRun.BuiltInServer([8080], [8081], false);
        }
        return new ContainerRun.BuiltInServer(
            container.Ports.Where(p => p.Protocol is "TCP" or "").Select(p => p.Port).Distinct().ToArray(),
            container.Ports.Where(p => p.Protocol == "UDP").Select(p => p.Port).Distinct().ToArray(),
            false);
    }

    private static ContainerRun Netexec(IReadOnlyList<string> flags)
    {
        var values = Flags(flags);
        var http = Port(values, "http-port", 8080);
        var udp = Port(values, "udp-port", 8081);
        return new ContainerRun.BuiltInServer(http > 0 ? [http] : [], udp > 0 ? [udp] : [], false);
    }

    private static ContainerRun ServeHostname(IReadOnlyList<string> flags)
    {
        var values = Flags(flags);
        var port = Port(values, "port", 9376);
        var udp = Bool(values, "udp");
        var tcp = Bool(values, "tcp");
        var http = values.ContainsKey("http") ? Bool(values, "http") : !(udp || tcp);
        if (tcp)
        {
            throw new ArgumentException("agnhost serve-hostname --tcp (raw TCP) is not built into Podnet; --http and --udp are");
        }
        return new ContainerRun.BuiltInServer(http ? [port] : [], udp ? [port] : [], true);
    }

    /// <summary>Go-style flags: --name=value, --name value, -name value, and bare booleans.</summary>
    private static Dictionary<string, string> Flags(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i].TrimStart('-');
            var eq = arg.IndexOf('=');
            if (eq >= 0)
            {
                values[arg[..eq]] = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count && IsValue(args[i + 1]) && !IsBoolean(arg))
            {
                values[arg] = args[++i];
            }
            else
            {
                values[arg] = "true";
            }
        }
        return values;
    }

    private static bool IsBoolean(string flag) => flag is "udp" or "tcp" or "http" or "close";

    /// <summary>A flag's value: anything that is not itself a flag (a negative number is a value).</summary>
    private static bool IsValue(string arg) => !arg.StartsWith('-') || int.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    private static int Port(Dictionary<string, string> values, string flag, int fallback)
    {
        if (!values.TryGetValue(flag, out var text))
        {
            return fallback;
        }
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var port) && port <= 65535
            ? port
            : throw new ArgumentException($"--{flag}: '{text}' is not a port");
    }

    private static bool Bool(Dictionary<string, string> values, string flag) =>
        values.TryGetValue(flag, out var text) && text is "true" or "1" or "t" or "T" or "TRUE" or "True";
}
