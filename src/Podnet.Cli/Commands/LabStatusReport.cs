using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.Lab.State;
using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// What `podnet lab status` prints, from the lab's state on disk and what the caller read from
/// the API server (its address, and each node's pod CIDR and readiness). No API client here:
/// the full CLI (LabStatus, KubernetesClient) and the NativeAOT front (src/Podnet.Front, raw
/// HTTP) both compile this file, so their output cannot drift.
/// </summary>
internal static class LabStatusReport
{
    public static int Print(LabState state, string? apiServer, IReadOnlyDictionary<string, (string? PodCidr, bool Ready)> api, bool json, TextWriter output)
    {
        var status = Build(state, apiServer, api);
        if (json)
        {
            output.WriteLine(status.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        output.WriteLine($"lab {status["name"]}: {(state.SupervisorPid is null ? "stopped" : "running")}, {status["architecture"]} architecture, {status["routing"]} routing");
        output.WriteLine($"kubeconfig: {status["kubeconfig"]}  api server: {status["apiServer"]}");
        output.WriteLine($"control plane: {status["controlPlane"]!["address"]} ({status["controlPlane"]!["netns"]})");
        output.WriteLine($"outside host:  {status["outside"]!["address"]} ({status["outside"]!["netns"]})");
        output.WriteLine($"pod CIDRs: {string.Join(", ", status["podCIDRs"]!.AsArray())}  LoadBalancer pool: {string.Join(", ", status["loadBalancerPool"]!.AsArray())}");
        if (status["network"] is JsonObject network)
        {
            output.WriteLine($"network {network["name"]} ({network["netns"]}, host {string.Join(", ", network["hostAddresses"]!.AsArray())}): uplink {string.Join(", ", network["uplinkAddresses"]!.AsArray())}, routed here: {string.Join(", ", network["routedHere"]!.AsArray())}");
        }
        output.WriteLine("NODE\tADDRESS\tPOD CIDR\tREADY\tAGENT PID\tNETNS");
        foreach (var node in status["nodes"]!.AsArray())
        {
            output.WriteLine($"{node!["name"]}\t{node["address"]}\t{node["podCIDR"]}\t{node["ready"]}\t{node["agentPid"]}\t{node["netns"]}");
        }
        output.WriteLine($"masquerade: {status["effective"]!["masquerade"]}; the outside host routes to: {status["effective"]!["outsideRoutesTo"]}");
        return 0;
    }

    /// <summary>The status as -o json prints it; <paramref name="api"/> holds what the API server said of each node (empty when it was not asked).</summary>
    public static JsonObject Build(LabState state, string? apiServer, IReadOnlyDictionary<string, (string? PodCidr, bool Ready)> api)
    {
        var settings = state.LoadSettings();
        var plan = LabPlanner.Build(settings.ToSpec());
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
            ["apiServer"] = apiServer,
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
}
