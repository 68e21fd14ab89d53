using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Podnet.Lab.State;
using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>`podnet lab status [--name NAME] [-o json]`.</summary>
internal static class LabStatus
{
    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var output = new Option<string>("--output", "-o") { Description = "json for a machine-readable status." };
        var command = new Command("status", "Show a lab: its control plane, outside host, nodes, architecture and routing.") { name, output };
        command.SetAction(parse =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            if (!state.Exists)
            {
                Console.Error.WriteLine($"podnet lab: no lab named {state.Name} (labs here: {string.Join(", ", LabState.List()) switch { "" => "none", var l => l }})");
                return 1;
            }
            return Print(state, parse.GetValue(output) == "json");
        });
        return command;
    }

    public static int Print(LabState state, bool json)
    {
        var status = Build(state);
        if (json)
        {
            Console.WriteLine(status.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        Console.WriteLine($"lab {status["name"]}: {(state.SupervisorPid is null ? "stopped" : "running")}, {status["architecture"]} architecture, {status["routing"]} routing");
        Console.WriteLine($"kubeconfig: {status["kubeconfig"]}  api server: {status["apiServer"]}");
        Console.WriteLine($"control plane: {status["controlPlane"]!["address"]} ({status["controlPlane"]!["netns"]})");
        Console.WriteLine($"outside host:  {status["outside"]!["address"]} ({status["outside"]!["netns"]})");
        Console.WriteLine($"pod CIDRs: {string.Join(", ", status["podCIDRs"]!.AsArray())}  LoadBalancer pool: {string.Join(", ", status["loadBalancerPool"]!.AsArray())}");
        if (status["network"] is JsonObject network)
        {
            Console.WriteLine($"network {network["name"]} ({network["netns"]}, host {string.Join(", ", network["hostAddresses"]!.AsArray())}): uplink {string.Join(", ", network["uplinkAddresses"]!.AsArray())}, routed here: {string.Join(", ", network["routedHere"]!.AsArray())}");
        }
        Console.WriteLine("NODE\tADDRESS\tPOD CIDR\tREADY\tAGENT PID\tNETNS");
        foreach (var node in status["nodes"]!.AsArray())
        {
            Console.WriteLine($"{node!["name"]}\t{node["address"]}\t{node["podCIDR"]}\t{node["ready"]}\t{node["agentPid"]}\t{node["netns"]}");
        }
        Console.WriteLine($"masquerade: {status["effective"]!["masquerade"]}; the outside host routes to: {status["effective"]!["outsideRoutesTo"]}");
        return 0;
    }

    internal static JsonObject Build(LabState state)
    {
        var settings = state.LoadSettings();
        var plan = LabPlanner.Build(settings.ToSpec());
        var api = ReadNodes(state);
        var nodes = new JsonArray();
        foreach (var node in plan.Nodes)
        {
            api.TryGetValue(node.Name, out var seen);
            nodes.Add((JsonNode)new JsonObject
            {
                ["name"] = node.Name,
                ["netns"] = node.Netns,
                ["address"] = node.Address.Address.ToString(),
                ["podCIDR"] = seen.PodCidr,
                ["ready"] = seen.Ready,
                ["agentPid"] = Supervisor.ReadPid(state.Directory, $"agent-{node.Name}"),
            });
        }
        return new JsonObject
        {
            ["name"] = state.Name,
            ["running"] = state.SupervisorPid is not null,
            ["kubeconfig"] = state.Kubeconfig,
            ["apiServer"] = ApiServer(state),
            ["externalApiServer"] = settings.UsesExternalApiServer,
            ["controllers"] = settings.EffectiveControllers,
            ["architecture"] = settings.Architecture,
            ["routing"] = settings.Routing,
            ["ipFamily"] = settings.IpFamily,
            ["controlPlane"] = new JsonObject { ["netns"] = plan.ControlPlane.Netns, ["address"] = plan.ControlPlane.Address.Address.ToString() },
            ["outside"] = new JsonObject { ["netns"] = plan.Outside.Netns, ["address"] = plan.Outside.Address.Address.ToString() },
            ["podCIDRs"] = new JsonArray(plan.ClusterCidrs.Select(c => (JsonNode)c.ToString()).ToArray()),
            ["loadBalancerPool"] = new JsonArray(plan.LoadBalancerPool.Select(r => (JsonNode)r).ToArray()),
            ["network"] = plan.Network is { } network
                ? new JsonObject
                {
                    ["name"] = network.Name,
                    ["netns"] = network.Netns,
                    ["slot"] = network.Slot,
                    ["hostAddresses"] = new JsonArray(network.Gateways.Select(a => (JsonNode)a.ToString()).ToArray()),
                    ["uplinkAddresses"] = new JsonArray(network.UplinkAddresses.Select(a => (JsonNode)a.Address.ToString()).ToArray()),
                    ["routedHere"] = new JsonArray(network.Routes.Select(r => (JsonNode)r.ToString()).ToArray()),
                }
                : null,
            ["nodes"] = nodes,
            ["effective"] = Effective(settings),
        };
    }

    /// <summary>What the architecture means for traffic, in words.</summary>
    private static JsonObject Effective(LabSettings settings) => settings.Architecture switch
    {
        "flat" => new JsonObject { ["masquerade"] = "nothing: pods and the outside see each other's real addresses", ["outsideRoutesTo"] = "node addresses and every node's pod CIDR" },
        "isolated" => new JsonObject { ["masquerade"] = "nothing: pod traffic to the outside is rejected (ICMP admin-prohibited)", ["outsideRoutesTo"] = "node addresses only (NodePort and LoadBalancer Services)" },
        _ => new JsonObject { ["masquerade"] = "pod traffic leaving the cluster's pod and service CIDRs, to the node's address", ["outsideRoutesTo"] = "node addresses only" },
    };

    private static string? ApiServer(LabState state)
    {
        try
        {
            return File.Exists(state.Kubeconfig) ? KubeconfigFile.Load(state.Kubeconfig).Host : null;
        }
        catch (k8s.Exceptions.KubeConfigException)
        {
            return null;
        }
    }

    private static Dictionary<string, (string? PodCidr, bool Ready)> ReadNodes(LabState state)
    {
        var result = new Dictionary<string, (string?, bool)>();
        if (state.SupervisorPid is null || !File.Exists(state.Kubeconfig))
        {
            return result;
        }
        try
        {
            using var client = new Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
            foreach (var node in client.CoreV1.ListNode().Items)
            {
                result[node.Metadata.Name] = (node.Spec?.PodCIDR, LabUp.IsReady(node));
            }
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or IOException)
        {
        }
        return result;
    }
}
