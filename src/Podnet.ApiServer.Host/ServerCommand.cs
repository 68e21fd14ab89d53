using System.CommandLine;
using System.Net;
using Podnet.Controllers.NodeIpam;

namespace Podnet.ApiServer.Host;

/// <summary>
/// `podnet server` (which runs this binary, podnet-apiserver, in its place): the lab's
/// Kubernetes-compatible API server without a lab. It writes STATE/kubeconfig once it listens,
/// then starts the controllers (<see cref="ControllersProcess"/>), and stops cleanly on SIGTERM.
/// </summary>
internal static class ServerCommand
{
    private static readonly Option<string> State = new("--state") { Description = "State directory (database, certificates, kubeconfig).", Required = true };
    private static readonly Option<int> Port = new("--port") { Description = "Port to listen on.", DefaultValueFactory = _ => 6443 };
    private static readonly Option<string[]> Bind = new("--bind") { Description = "Address to listen on (repeatable; default 127.0.0.1).", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string> ServiceCidr = new("--service-cidr") { Description = "Service CIDR(s), comma-separated (IPv4 and/or IPv6).", DefaultValueFactory = _ => "10.96.0.0/16" };
    private static readonly Option<string> NodePortRange = new("--node-port-range") { Description = "NodePort range.", DefaultValueFactory = _ => "30000-32767" };
    private static readonly Option<string> ClusterCidr = new("--cluster-cidr") { Description = "Pod CIDR(s) the node IPAM controller hands out from, comma-separated.", DefaultValueFactory = _ => "10.244.0.0/16" };
    private static readonly Option<string> LabNetns = new("--lab-netns") { Description = "Also listen inside this network namespace (the lab's control plane), at --lab-address." };
    private static readonly Option<string> LabAddress = new("--lab-address") { Description = "The control plane's address in --lab-netns, advertised as the kubernetes Service's endpoint." };
    private static readonly Option<string> LabNodes = new("--lab-nodes") { Description = "The lab's node names, comma-separated: each gets STATE/kubeconfig-node-NAME with a client certificate for system:node:NAME." };
    private static readonly Option<int> LabPort = new("--lab-port") { Description = "Port of the lab listener.", DefaultValueFactory = _ => 6443 };
    private static readonly Option<string> LoadBalancerPool = new("--loadbalancer-pool") { Description = "LoadBalancer address ranges, comma-separated (like 172.18.0.200-172.18.0.250); default the lab's." };
    private static readonly Option<int> MaxRequestsInFlight = new("--max-requests-inflight") { Description = "Read-only requests (get, list; not watches) served at once; more are answered 429 with Retry-After: 1. 0 is no limit.", DefaultValueFactory = _ => 400 };
    private static readonly Option<int> MaxMutatingRequestsInFlight = new("--max-mutating-requests-inflight") { Description = "Writes served at once; more are answered 429 with Retry-After: 1. 0 is no limit.", DefaultValueFactory = _ => 200 };
    private static readonly Option<string> RequestTimeout = new("--request-timeout") { Description = "A request (not a watch) still running after this is answered 504 Timeout and stopped (like 60s, 1m0s, 500ms; 0 is none).", DefaultValueFactory = _ => "1m0s" };
    private static readonly Option<string> NodeGrace = new("--node-monitor-grace-period") { Description = "How long a node may go without renewing its Lease before the controllers mark it Unknown (like 40s, 5s).", DefaultValueFactory = _ => "40s" };
    private static readonly Option<string> AuditLogPath = new("--audit-log-path") { Description = "Write every request's audit event (audit.k8s.io/v1 Event, level Metadata, one JSON line each) to this file." };
    private static readonly Option<string> AuthorizationModeOption = new("--authorization-mode") { Description = "RBAC (default), or AlwaysAllow: every authenticated request is allowed (benchmarks).", DefaultValueFactory = _ => "RBAC" };
    private static readonly Option<string> Controllers = new("--controllers") { Description = $"Controllers to run, comma-separated: {string.Join(", ", ApiServerOptions.KnownControllers)} (default all).", DefaultValueFactory = _ => "all" };

    public static RootCommand Create()
    {
        var command = new RootCommand("Run the Kubernetes-compatible API server (and its controllers) without a lab.");
        foreach (var option in new Option[] { State, Port, Bind, ServiceCidr, NodePortRange, ClusterCidr, LabNetns, LabAddress, LabPort, LabNodes, LoadBalancerPool, NodeGrace, Controllers, MaxRequestsInFlight, MaxMutatingRequestsInFlight, RequestTimeout, AuthorizationModeOption, AuditLogPath })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            ApiServerOptions options;
            System.Net.Sockets.Socket? labSocket = null;
            var podnet = Path.Combine(AppContext.BaseDirectory, "podnet");
            try
            {
                options = Build(parse);
                if (parse.GetValue(LabNetns) is { } labNetns)
                {
                    var address = IPAddress.TryParse(parse.GetValue(LabAddress), out var a) ? a : throw new FormatException("--lab-address: an IP address is needed with --lab-netns");
                    labSocket = ListenInside(labNetns, address, parse.GetValue(LabPort));
                    // Kubelets (port 10250 on the nodes' addresses) are reached from the control
                    // plane's namespace too: each connection's socket is made there.
                    var kubeletNetns = Kernel.Netns.Open(labNetns);
                    options = options with
                    {
                        Lab = new LabListener((ulong)labSocket.Handle, address, parse.GetValue(LabPort)),
                        LabNodes = (parse.GetValue(LabNodes) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                        KubeletSocket = family => kubeletNetns.Run(() => new System.Net.Sockets.Socket(family, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)),
                    };
                }
                // Checked here, so that a bad value stops the server before it writes anything; the
                // controllers process reads them again.
                _ = NodeIpamConfig.Parse(parse.GetValue(ClusterCidr)!);
                if (parse.GetValue(LoadBalancerPool) is { } pool)
                {
                    _ = Podnet.Controllers.LoadBalancer.AddressRange.ParseList(pool);
                }
                if (Core.Cluster.GoDuration.Parse(parse.GetValue(NodeGrace)!) <= TimeSpan.Zero)
                {
                    throw new FormatException("--node-monitor-grace-period: must be longer than 0");
                }
                if (options.Controllers.Count > 0 && !File.Exists(podnet))
                {
                    throw new FormatException($"--controllers: the controllers run as `podnet controllers`, and {podnet} is missing (./podnet build puts both in bin/)");
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                Console.Error.WriteLine($"podnet server: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is Kernel.KernelException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"podnet server: cannot listen in the lab: {e.Message}");
                return 1;
            }
            try
            {
                await using var host = await ApiServerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"podnet server: listening on {host.Url} (kubeconfig {host.KubeconfigPath})");
                using var stopControllers = new CancellationTokenSource();
                var controllers = options.Controllers.Count == 0 ? Task.CompletedTask : ControllersProcess.RunAsync(podnet, ControllerArguments(parse, host, options), stopControllers.Token);
                await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
                // The controllers first, so that they do not report the server going away.
                await stopControllers.CancelAsync();
                await controllers.ConfigureAwait(false);
                GC.KeepAlive(labSocket);
                Console.Error.WriteLine("podnet server: stopped");
                return 0;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"podnet server: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>A listening socket inside <paramref name="netns"/>: a socket keeps the namespace it was made in.</summary>
    private static System.Net.Sockets.Socket ListenInside(string netns, IPAddress address, int port)
    {
        using var ns = Kernel.Netns.Open(netns);
        return ns.Run(() =>
        {
            var socket = new System.Net.Sockets.Socket(address.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
            return socket;
        });
    }

    private static List<string> ControllerArguments(ParseResult parse, ApiServerHost host, ApiServerOptions options)
    {
        List<string> arguments = ["controllers", "--kubeconfig", host.ControllersKubeconfigPath, "--controllers", string.Join(',', options.Controllers), "--cluster-cidr", parse.GetValue(ClusterCidr)!, "--node-monitor-grace-period", parse.GetValue(NodeGrace)!];
        if (parse.GetValue(LoadBalancerPool) is { } pool)
        {
            arguments.AddRange(["--loadbalancer-pool", pool]);
        }
        return arguments;
    }

    private static TimeSpan ParseTimeout(string text)
    {
        try
        {
            return ApiServerOptions.ParseDuration(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"--request-timeout: {e.Message}");
        }
    }

    private static ApiServerOptions Build(ParseResult parse)
    {
        var port = parse.GetValue(Port);
        if (port is < 0 or > 65535)
        {
            throw new FormatException($"--port {port}: must be between 0 and 65535");
        }
        var binds = (parse.GetValue(Bind) ?? []).Select(b => IPAddress.TryParse(b, out var a) ? a : throw new FormatException($"--bind {b}: not an IP address")).ToList();
        var cidrs = parse.GetValue(ServiceCidr)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => Core.Net.AddressPrefix.TryParse(c, out var p) && p.Address.Equals(p.Network.BaseAddress) ? p.Network : throw new FormatException($"--service-cidr {c}: not a CIDR like 10.96.0.0/16"))
            .ToList();
        if (cidrs.Count is 0 or > 2 || cidrs.Count == 2 && cidrs[0].BaseAddress.AddressFamily == cidrs[1].BaseAddress.AddressFamily)
        {
            throw new FormatException("--service-cidr: give one CIDR, or one IPv4 and one IPv6");
        }
        var (min, max) = ApiServerOptions.ParsePortRange(parse.GetValue(NodePortRange)!);
        var controllers = parse.GetValue(Controllers)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (controllers is ["all"])
        {
            controllers = [.. ApiServerOptions.KnownControllers];
        }
        else if (controllers is ["none"] or [])
        {
            controllers = [];
        }
        foreach (var name in controllers.Where(c => !ApiServerOptions.KnownControllers.Contains(c)))
        {
            throw new FormatException($"--controllers: unknown controller \"{name}\" (known: {string.Join(", ", ApiServerOptions.KnownControllers)}, all, none)");
        }
        var (inFlight, mutatingInFlight) = (parse.GetValue(MaxRequestsInFlight), parse.GetValue(MaxMutatingRequestsInFlight));
        if (inFlight < 0 || mutatingInFlight < 0)
        {
            throw new FormatException("--max-requests-inflight, --max-mutating-requests-inflight: must be 0 (no limit) or more");
        }
        var authorization = parse.GetValue(AuthorizationModeOption) switch
        {
            "RBAC" => AuthorizationMode.Rbac,
            "AlwaysAllow" => AuthorizationMode.AlwaysAllow,
            var other => throw new FormatException($"--authorization-mode: unknown mode \"{other}\" (RBAC or AlwaysAllow)"),
        };
        return new ApiServerOptions
        {
            Authorization = authorization,
            MaxRequestsInFlight = inFlight,
            MaxMutatingRequestsInFlight = mutatingInFlight,
            RequestTimeout = ParseTimeout(parse.GetValue(RequestTimeout)!),
            AuditLogPath = parse.GetValue(AuditLogPath),
            StateDirectory = Path.GetFullPath(parse.GetValue(State)!),
            Port = port,
            BindAddresses = binds.Count > 0 ? binds : [IPAddress.Loopback],
            ServiceCidrs = cidrs,
            NodePortMin = min,
            NodePortMax = max,
            Controllers = controllers,
        };
    }
}
