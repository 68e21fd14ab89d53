using System.CommandLine;
using System.Runtime.InteropServices;
using Podnet.Controllers.NodeIpam;
using Podnet.Controllers.Runtime;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet controllers`: Podnet's controllers as clients of any Kubernetes API server, for what
/// that control plane lacks (a bare kube-apiserver runs none of them). `lab up --kubeconfig`
/// runs this; `podnet server` runs the same controllers in its own process.
/// </summary>
internal static class ControllersCommand
{
    public static Command Create()
    {
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var controllers = new Option<string>("--controllers") { Description = $"Controllers to run, comma-separated: {string.Join(", ", ControllerManager.AllNames)} (or all).", DefaultValueFactory = _ => "all" };
        var clusterCidr = new Option<string>("--cluster-cidr") { Description = "Pod CIDR(s) the node IPAM controller hands out from, comma-separated.", DefaultValueFactory = _ => "10.244.0.0/16" };
        var pool = new Option<string>("--loadbalancer-pool") { Description = "LoadBalancer address ranges, comma-separated (like 172.18.0.200-172.18.0.250)." };
        var nodeGrace = new Option<string>("--node-monitor-grace-period") { Description = "How long a node may go without renewing its Lease before it is marked Unknown (like 40s, 5s).", DefaultValueFactory = _ => "40s" };
        // podnet server starts the controllers with a pipe for standard input: when it ends, even
        // killed outright, the pipe closes and the controllers stop with it.
        var rootCaFile = new Option<string>("--root-ca-file") { Description = "The cluster CA (PEM) the rootcacert controller publishes in every namespace's kube-root-ca.crt (default: the kubeconfig's certificate authority)." };
        var untilStdinCloses = new Option<bool>("--until-stdin-closes") { Description = "Stop when standard input reaches its end.", Hidden = true };
        var command = new Command("controllers", "Run Podnet's controllers against a Kubernetes API server.") { kubeconfig, lab, controllers, clusterCidr, pool, nodeGrace, rootCaFile, untilStdinCloses };
        command.SetAction(async (parse, token) =>
        {
            IReadOnlyList<string> names;
            ControllerOptions options;
            try
            {
                names = ControllerManager.ParseList(parse.GetValue(controllers));
                options = new ControllerOptions
                {
                    NodeIpam = NodeIpamConfig.Parse(parse.GetValue(clusterCidr)!),
                    LoadBalancerPool = parse.GetValue(pool) is { } ranges ? Controllers.LoadBalancer.AddressRange.ParseList(ranges) : new ControllerOptions().LoadBalancerPool,
                    NodeMonitorGracePeriod = NodeGrace(parse.GetValue(nodeGrace)!),
                    Log = line => Console.Error.WriteLine($"podnet controllers: {line}"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"podnet controllers: {e.Message}");
                return 2;
            }
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 1;
            }
            try
            {
                options = options with { RootCaPem = RootCa(parse.GetValue(rootCaFile), context) };
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"podnet controllers: --root-ca-file: {e.Message}");
                return 2;
            }
            if (names.Count == 0)
            {
                Console.Error.WriteLine("podnet controllers: no controller to run");
                return 0;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            // Started by podnet server, which stops them itself: a Ctrl-C at the terminal, which
            // reaches both, is the server's to act on.
            using var interrupt = parse.GetValue(untilStdinCloses) ? PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true) : null;
            if (parse.GetValue(untilStdinCloses))
            {
                StopAtEndOfInput(stop);
            }
            using var client = context.Client();
            if (parse.GetValue(controllers)!.Split(',').Any(n => n.Trim() == "rootcacert") && options.RootCaPem is null)
            {
                Console.Error.WriteLine("podnet controllers: rootcacert needs the cluster CA: give --root-ca-file, or a kubeconfig with certificate-authority-data");
                return 2;
            }
            Console.Error.WriteLine($"podnet controllers: running {string.Join(", ", names)} against {client.BaseUri}");
            await ControllerManager.RunAsync(client, options, names, stop.Token);
            Console.Error.WriteLine("podnet controllers: stopped");
            return 0;
        });
        return command;
    }

    /// <summary>A grace period as --node-monitor-grace-period takes it: a positive duration.</summary>
    public static TimeSpan NodeGrace(string text)
    {
        try
        {
            var grace = Core.Cluster.GoDuration.Parse(text);
            return grace > TimeSpan.Zero ? grace : throw new FormatException($"'{text}' must be longer than 0");
        }
        catch (FormatException e)
        {
            throw new FormatException($"--node-monitor-grace-period: {e.Message}");
        }
    }

    /// <summary>The CA to publish: the file's text, else the kubeconfig's certificate authorities as PEM, else null.</summary>
    private static string? RootCa(string? file, ClusterContext context)
    {
        if (file is not null)
        {
            return File.ReadAllText(file);
        }
        var certificates = KubeconfigFile.Load(context.Kubeconfig).SslCaCerts;
        return certificates is { Count: > 0 } ? string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")) : null;
    }

    private static void StopAtEndOfInput(CancellationTokenSource stop)
    {
        var thread = new Thread(() =>
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (input.Read(buffer) > 0)
            {
            }
            stop.Cancel();
        })
        { IsBackground = true, Name = "stdin" };
        thread.Start();
    }
}
