using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using k8s;
using Podnet.Dns.Forwarding;
using Podnet.Dns.Index;
using Podnet.Dns.Server;
using Podnet.Dns.Watch;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet dns`: cluster DNS (the kube-dns role) from what it watches on the API, forwarding
/// other names to the upstreams it is given. In a pod it uses the in-cluster service account;
/// elsewhere --kubeconfig, --lab or the one running lab.
/// </summary>
internal static class DnsCommand
{
    public static Command Create()
    {
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var listen = new Option<string>("--listen") { Description = "Address and port for DNS over UDP and TCP ([::]:53 for both families); /metrics, /health and /ready listen on the same address.", DefaultValueFactory = _ => "0.0.0.0:53" };
        var zone = new Option<string>("--zone") { Description = "The cluster domain.", DefaultValueFactory = _ => "cluster.local" };
        var ttl = new Option<uint>("--ttl") { Description = "TTL of the zone's records in seconds (0-3600), also the SOA minimum.", DefaultValueFactory = _ => 30 };
        var upstream = new Option<string[]>("--upstream") { Description = "Upstream DNS server for other names (address, address:port or [address]:port); repeat or separate with commas.", AllowMultipleArgumentsPerToken = true };
        var resolvConf = new Option<string>("--resolv-conf") { Description = "Take the upstreams from this file's nameserver lines." };
        var pods = new Option<string>("--pods") { Description = "Pod records a-b-c-d.NS.pod.ZONE: insecure, verified or disabled.", DefaultValueFactory = _ => "insecure" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Port of /metrics.", DefaultValueFactory = _ => 9153 };
        var healthPort = new Option<int>("--health-port") { Description = "Port of /health.", DefaultValueFactory = _ => 8080 };
        var readyPort = new Option<int>("--ready-port") { Description = "Port of /ready.", DefaultValueFactory = _ => 8181 };
        var workers = new Option<int>("--workers") { Description = "UDP sockets (one thread each) sharing the port.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("dns", "Serve cluster DNS from the API's Services, EndpointSlices and Pods.")
        {
            kubeconfig, lab, listen, zone, ttl, upstream, resolvConf, pods, metricsPort, healthPort, readyPort, workers,
        };
        command.SetAction(async (parse, token) =>
        {
            DnsHostOptions options;
            try
            {
                if (parse.GetValue(upstream) is { Length: > 0 } && parse.GetValue(resolvConf) is not null)
                {
                    throw new ArgumentException("give --upstream or --resolv-conf, not both");
                }
                var upstreams = parse.GetValue(resolvConf) is { } file
                    ? Upstreams.FromResolvConf(File.ReadAllText(file), file)
                    : Upstreams.FromFlags(parse.GetValue(upstream) ?? []);
                options = new DnsHostOptions
                {
                    Zone = new DnsOptions { Zone = parse.GetValue(zone)!, Ttl = parse.GetValue(ttl), Pods = ParsePods(parse.GetValue(pods)!) },
                    Server = new DnsServerOptions { Listen = ParseListen(parse.GetValue(listen)!), UdpWorkers = parse.GetValue(workers) },
                    Upstreams = upstreams,
                    Http = new HttpPorts(Port(parse.GetValue(metricsPort)), Port(parse.GetValue(healthPort)), Port(parse.GetValue(readyPort))),
                    Log = line => Console.Error.WriteLine($"podnet dns: {line}"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"podnet dns: {e.Message}");
                return 2;
            }
            if (Client(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } client)
            {
                return 1;
            }
            using (client)
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
                DnsHost host;
                try
                {
                    host = await DnsHost.StartAsync(options, WatchSources.FromClient(client, options.Zone.Pods), stop.Token);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
                {
                    Console.Error.WriteLine($"podnet dns: cannot listen on {options.Server.Listen}: {e.Message}");
                    return 1;
                }
                await using (host)
                {
                    var forwarding = options.Upstreams.Count > 0 ? string.Join(", ", options.Upstreams) : "nowhere (other names get SERVFAIL)";
                    Console.Error.WriteLine($"podnet dns: serving {options.Zone.Zone} on {host.EndPoint} (udp, tcp) from {client.BaseUri}; forwarding to {forwarding}");
                    try
                    {
                        await Task.Delay(Timeout.Infinite, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
            Console.Error.WriteLine("podnet dns: stopped");
            return 0;
        });
        return command;
    }

    private static Kubernetes? Client(string? kubeconfig, string? lab)
    {
        try
        {
            if (kubeconfig is null && lab is null && KubernetesClientConfiguration.IsInCluster())
            {
                return new Kubernetes(KubernetesClientConfiguration.InClusterConfig());
            }
            return ClusterContext.Resolve(kubeconfig, lab)?.Client();
        }
        catch (k8s.Exceptions.KubeConfigException e)
        {
            Console.Error.WriteLine($"podnet dns: {e.Message}");
            return null;
        }
    }

    internal static PodsMode ParsePods(string text) => text switch
    {
        "insecure" => PodsMode.Insecure,
        "verified" => PodsMode.Verified,
        "disabled" => PodsMode.Disabled,
        _ => throw new ArgumentException($"--pods takes insecure, verified or disabled, not '{text}'"),
    };

    internal static IPEndPoint ParseListen(string text)
    {
        if (IPAddress.TryParse(text, out var address) && !text.StartsWith('['))
        {
            return new IPEndPoint(address, 53);
        }
        return IPEndPoint.TryParse(text, out var endPoint)
            ? endPoint
            : throw new FormatException($"--listen takes address:port (like 0.0.0.0:53 or [::]:53), not '{text}'");
    }

    private static int Port(int port) => port is > 0 and <= 65535 ? port : throw new ArgumentException($"port {port} is not 1-65535");
}
