using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.Cli.Commands;
using Podnet.Cli.Objects;
using Podnet.Lab.State;

namespace Podnet.Front;

/// <summary>
/// bin/podnet: a NativeAOT front for the CLI's hot verbs, handing every other command line to
/// the full CLI (bin/podnet-full) by execve.
/// </summary>
/// <remarks>
/// Why: the full CLI runs on the JIT runtime with KubernetesClient, System.CommandLine and every
/// daemon in it; `podnet get pods` took a median 271 ms where kubectl took 57 ms, and `podnet
/// exec` 429 ms (bench/cli). This binary starts in a few milliseconds and prints with the full
/// CLI's own code (GetRequest, TableText, Yaml, ApplyRun, LabStatusReport are compiled into
/// both), so the two cannot print different things. It answers only what it is sure of
/// (FrontArgs: the success paths of get, apply, exec, lab status, version); at any doubt —
/// an option it does not know, a kubeconfig with an exec plugin, no lab, a pod not found in the
/// lab's records — it hands the unchanged command line to the full CLI before printing anything,
/// and the full CLI prints the answer or the error as it always has. A hand-off costs one execve.
/// Nothing is kept between calls.
/// </remarks>
internal static class Program
{
    private static int Main(string[] args)
    {
        try
        {
            return FrontArgs.Parse(args) switch
            {
                VersionRequest version => Version(version),
                GetArgs get => Get(get) ?? Handoff.ToFullCli(args),
                ApplyArgs apply => Apply(apply) ?? Handoff.ToFullCli(args),
                ExecArgs exec => Exec(exec) ?? Handoff.ToFullCli(args),
                LabStatusArgs status => LabStatus(status) ?? Handoff.ToFullCli(args),
                _ => Handoff.ToFullCli(args),
            };
        }
        catch (HttpRequestException e)
        {
            // As the full CLI's Program says it.
            Console.Error.WriteLine(ApiClient.Unreachable(e));
            return 1;
        }
    }

    private static int Version(VersionRequest request)
    {
        var version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        Console.Out.Write(request.Bare ? version + "\n" : $"podnet {version}\n");
        return 0;
    }

    private static int? Get(GetArgs args)
    {
        if (ResourceMap.Find(args.Kind) is not { } resource || FrontContext.Resolve(args.Kubeconfig, args.Lab) is not { } context
            || Kubeconfig.Load(context.Kubeconfig) is not { } endpoint)
        {
            return null;
        }
        TrustStore.OnlyTheKubeconfigs(endpoint);
        using var api = new ApiClient(endpoint);
        var request = GetRequest.Of(resource, args.Name, args.Namespace, args.AllNamespaces, args.Output, args.Selector);
        var (status, body) = api.GetAsync(request.Path, request.Accept).GetAwaiter().GetResult();
        return request.Print(status, body, Console.Out, Console.Error);
    }

    private static int? Apply(ApplyArgs args)
    {
        if (FrontContext.Resolve(args.Kubeconfig, args.Lab) is not { } context || Kubeconfig.Load(context.Kubeconfig) is not { } endpoint)
        {
            return null;
        }
        TrustStore.OnlyTheKubeconfigs(endpoint);
        return ApplyRun.RunAsync(() => new ApiClient(endpoint), args.File, args.Namespace, CancellationToken.None).GetAwaiter().GetResult();
    }

    private static int? Exec(ExecArgs args)
    {
        if (FrontContext.Resolve(args.Kubeconfig, args.Lab) is not { Lab: { } state })
        {
            return null;
        }
        if (args.Outside || args.Node is not null)
        {
            var part = args.Outside ? "out" : args.Node!;
            return Handoff.Exec("/usr/bin/nsenter", ["/usr/bin/nsenter", "--net=" + Kernel.Netns.PathOf($"pn-{state.Name}-{part}"), "--", .. args.Command], null, "podnet exec: cannot run /usr/bin/nsenter");
        }
        if (PodRecords.Find(state, args.Namespace, args.Pod!, args.Container) is not { } entry)
        {
            return null;
        }
        return Handoff.Exec("/usr/bin/nsenter", entry.Argv(args.Command), entry.Environment(), "podnet exec: cannot run /usr/bin/nsenter");
    }

    private static int? LabStatus(LabStatusArgs args)
    {
        if (!Podnet.Lab.Topology.LabName.IsValid(args.Name, out _) || new LabState(args.Name) is not { Exists: true } state)
        {
            return null;
        }
        string? server = null;
        if (File.Exists(state.Kubeconfig) && (server = Kubeconfig.Server(state.Kubeconfig)) is null)
        {
            return null;
        }
        var nodes = new Dictionary<string, (string? PodCidr, bool Ready)>();
        if (state.SupervisorPid is not null && File.Exists(state.Kubeconfig))
        {
            if (Kubeconfig.Load(state.Kubeconfig) is not { } endpoint)
            {
                return null;
            }
            TrustStore.OnlyTheKubeconfigs(endpoint);
            try
            {
                using var api = new ApiClient(endpoint);
                var (status, list) = api.GetAsync("/api/v1/nodes").GetAwaiter().GetResult();
                foreach (var node in status < 400 && list?["items"] is JsonArray items ? items.OfType<JsonObject>() : [])
                {
                    var ready = node["status"]?["conditions"] is JsonArray conditions
                        && conditions.Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True");
                    nodes[(string)node["metadata"]!["name"]!] = ((string?)node["spec"]?["podCIDR"], ready);
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
            {
                // As the full CLI: a server that does not answer leaves the nodes' API columns empty.
                nodes.Clear();
            }
        }
        return LabStatusReport.Print(state, server, nodes, args.Output == "json", Console.Out);
    }
}
