using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;

namespace Podnet.Ui;

/// <summary>Who is behind an address: pods by IP, Service ports by address, protocol and port, NodePorts, the nodes' own addresses.</summary>
internal sealed class FlowLookup
{
    private readonly Dictionary<IPAddress, string> _pods = [];
    private readonly Dictionary<(IPAddress, string, int), string> _servicePorts = [];
    private readonly Dictionary<(string, int), string> _nodePorts = [];
    private readonly HashSet<IPAddress> _nodes = [];

    public static FlowLookup From(IEnumerable<V1Pod> pods, IEnumerable<V1Service> services, IEnumerable<V1Node> nodes)
    {
        var lookup = new FlowLookup();
        foreach (var pod in pods.Where(p => p.Spec?.HostNetwork != true))
        {
            foreach (var ip in (pod.Status?.PodIPs ?? []).Select(i => i.Ip).Append(pod.Status?.PodIP))
            {
                if (IPAddress.TryParse(ip, out var address))
                {
                    lookup._pods[address] = UiProjection.Key(pod.Metadata);
                }
            }
        }
        foreach (var service in services)
        {
            var key = UiProjection.Key(service.Metadata);
            var addresses = (service.Spec?.ClusterIPs ?? [])
                .Concat(service.Spec?.ExternalIPs ?? [])
                .Concat((service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip))
                .Select(a => IPAddress.TryParse(a, out var parsed) ? parsed : null).OfType<IPAddress>().ToArray();
            foreach (var port in service.Spec?.Ports ?? [])
            {
                var protocol = (port.Protocol ?? "TCP").ToLowerInvariant();
                foreach (var address in addresses)
                {
                    lookup._servicePorts[(address, protocol, port.Port)] = key;
                }
                if (port.NodePort is > 0 and var nodePort)
                {
                    lookup._nodePorts[(protocol, nodePort)] = key;
                }
            }
        }
        foreach (var address in nodes.SelectMany(n => n.Status?.Addresses ?? []).Where(a => a.Type == "InternalIP"))
        {
            if (IPAddress.TryParse(address.Address, out var parsed))
            {
                lookup._nodes.Add(parsed);
            }
        }
        return lookup;
    }

    public string? Pod(IPAddress address) => _pods.GetValueOrDefault(address);

    /// <summary>The Service a destination belongs to: one of its addresses and ports, or a node address and one of its NodePorts.</summary>
    public string? Service(IPAddress address, string protocol, int port) =>
        _servicePorts.GetValueOrDefault((address, protocol, port))
        ?? (_nodes.Contains(address) ? _nodePorts.GetValueOrDefault((protocol, port)) : null);
}

/// <summary>
/// One node's answer from <c>/podnet/flows</c> (see the agent's README) as the page's flows and
/// drops (pure). A connection becomes a flow when a pod or a Service is on it: source pod →
/// Service → endpoint, the NAT read from the difference between the original direction and the
/// reply (destination rewritten: the proxy's DNAT; reply addressed elsewhere than the source:
/// masquerade). The node's own connections to the API server and the like are left out.
/// </summary>
internal static class FlowProjection
{
    public const string Flows = "flows";
    public const string Drops = "drops";

    public static IEnumerable<(string Key, JsonObject Flow)> ProjectFlows(string node, JsonNode document, FlowLookup lookup)
    {
        foreach (var connection in document["connections"]?.AsArray() ?? [])
        {
            if (connection is null || Tuple(connection["original"]) is not { } original || Tuple(connection["reply"]) is not { } reply)
            {
                continue;
            }
            var protocol = (string?)connection["protocol"] ?? "";
            var sourcePod = lookup.Pod(original.Source);
            var service = lookup.Service(original.Destination, protocol, original.DestinationPort);
            var endpointPod = lookup.Pod(reply.Source);
            if (sourcePod is null && service is null && endpointPod is null)
            {
                continue;
            }
            var nat = new List<string>();
            if (!reply.Source.Equals(original.Destination) || reply.SourcePort != original.DestinationPort)
            {
                nat.Add($"DNAT {Endpoint(original.Destination, original.DestinationPort)} → {Endpoint(reply.Source, reply.SourcePort)}");
            }
            if (!reply.Destination.Equals(original.Source))
            {
                nat.Add($"SNAT (masquerade) {original.Source} → {reply.Destination}");
            }
            var key = $"{node}|{protocol}|{Endpoint(original.Source, original.SourcePort)}|{Endpoint(original.Destination, original.DestinationPort)}";
            yield return (key, new JsonObject
            {
                ["node"] = node,
                ["protocol"] = protocol,
                ["state"] = (string?)connection["state"],
                ["source"] = Endpoint(original.Source, original.SourcePort),
                ["sourcePod"] = sourcePod,
                ["destination"] = Endpoint(original.Destination, original.DestinationPort),
                ["service"] = service,
                ["endpoint"] = Endpoint(reply.Source, reply.SourcePort),
                ["endpointPod"] = endpointPod,
                ["nat"] = string.Join("; ", nat),
            });
        }
    }

    /// <summary>The node's recent policy drops, each keyed by node, time and addresses.</summary>
    public static IEnumerable<(string Key, JsonObject Drop)> ProjectDrops(string node, JsonNode document)
    {
        foreach (var drop in document["drops"]?.AsArray() ?? [])
        {
            if (drop is not JsonObject fields)
            {
                continue;
            }
            var copy = (JsonObject)fields.DeepClone();
            copy["node"] = node;
            yield return ($"{node}|{fields["time"]}|{fields["source"]}|{fields["destination"]}|{fields["protocol"]}|{fields["port"]}", copy);
        }
    }

    private static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    private sealed record Addresses(IPAddress Source, int SourcePort, IPAddress Destination, int DestinationPort);

    private static Addresses? Tuple(JsonNode? node) =>
        node is not null
        && IPAddress.TryParse((string?)node["source"], out var source)
        && IPAddress.TryParse((string?)node["destination"], out var destination)
            ? new Addresses(source, (int?)node["sourcePort"] ?? 0, destination, (int?)node["destinationPort"] ?? 0)
            : null;
}
