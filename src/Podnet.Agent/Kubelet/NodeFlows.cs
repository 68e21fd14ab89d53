using System.Net;
using System.Text.Json.Nodes;
using Podnet.Kernel;

namespace Podnet.Agent.Kubelet;

/// <summary>
/// What the node's kernel knows about connections right now, for the web view's live flows:
/// the node's conntrack table (both directions of each entry, so the NAT the proxy applied
/// shows as the difference between the original destination and the reply source) and the
/// policy drops <see cref="Policy.PolicyDrops"/> last wrote. Served on the kubelet API as
/// <c>GET /podnet/flows</c> (reached through the API server's nodes/NAME/proxy/podnet/flows);
/// the format is in the agent's README.
/// </summary>
/// <remarks>
/// Loopback entries are left out, and at most <see cref="Limit"/> entries are sent (the table
/// holds what the node forwarded for its pods, what it masqueraded and its own connections; a
/// page shows a few hundred at most).
/// </remarks>
public sealed class NodeFlows(AgentOptions options, Func<IReadOnlyList<ConntrackEntry>> list, TimeProvider time)
{
    public const int Limit = 2000;

    public string Json()
    {
        var connections = new JsonArray();
        foreach (var entry in list().Where(e => !IPAddress.IsLoopback(e.OriginalSource) && !IPAddress.IsLoopback(e.OriginalDestination)).Take(Limit))
        {
            connections.Add(new JsonObject
            {
                ["protocol"] = entry.Protocol,
                ["state"] = entry.State,
                ["timeout"] = entry.TimeoutSeconds,
                ["original"] = Tuple(entry.OriginalSource, entry.OriginalSourcePort, entry.OriginalDestination, entry.OriginalDestinationPort),
                ["reply"] = Tuple(entry.ReplySource, entry.ReplySourcePort, entry.ReplyDestination, entry.ReplyDestinationPort),
            });
        }
        var document = new JsonObject
        {
            ["node"] = options.NodeName,
            ["time"] = time.GetUtcNow().ToString("O"),
            ["connections"] = connections,
            ["drops"] = RecentDrops(),
        };
        return document.ToJsonString();
    }

    private static JsonObject Tuple(IPAddress source, int sourcePort, IPAddress destination, int destinationPort) => new()
    {
        ["source"] = source.ToString(),
        ["sourcePort"] = sourcePort,
        ["destination"] = destination.ToString(),
        ["destinationPort"] = destinationPort,
    };

    /// <summary>The "recent" list of policy-drops.json, or none before the first drop (or if it cannot be read).</summary>
    private JsonArray RecentDrops()
    {
        var path = Path.Combine(options.StateDirectory, Policy.PolicyDrops.FileName);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["recent"] is JsonArray recent ? (JsonArray)recent.DeepClone() : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return [];
        }
    }
}
