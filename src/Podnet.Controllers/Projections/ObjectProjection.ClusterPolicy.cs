using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.Core.Cluster;

namespace Podnet.Controllers.Projections;

/// <summary>ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2), read from its JSON (a custom resource has no typed model in KubernetesClient).</summary>
public static partial class ObjectProjection
{
    /// <summary>
    /// A ClusterNetworkPolicy's spec as the policy engine reads it, following the API's
    /// "fail closed" rule for what it cannot read (a CRD of another version, a peer or protocol
    /// with no field it knows): such a peer makes an Accept rule match nothing and a Deny or Pass
    /// rule match every peer; a protocol entry it cannot read makes an Accept rule match nothing
    /// and a Deny or Pass rule match every port; a subject it cannot read selects no pod; an
    /// action or tier it does not know leaves the rule (or the policy) out.
    /// </summary>
    public static ClusterNetworkPolicyInfo ToClusterNetworkPolicyInfo(string name, JsonNode? spec) => ToClusterNetworkPolicyInfo(name, spec, null);

    /// <summary>
    /// The parts of a ClusterNetworkPolicy's spec the engine cannot read and so reads failing
    /// closed, each as "path: what" (empty when it reads all of it): what its status reports.
    /// </summary>
    public static IReadOnlyList<string> ClusterNetworkPolicyProblems(JsonNode? spec)
    {
        var problems = new List<string>();
        ToClusterNetworkPolicyInfo("", spec, problems);
        return problems;
    }

    private static ClusterNetworkPolicyInfo ToClusterNetworkPolicyInfo(string name, JsonNode? spec, List<string>? problems)
    {
        var tier = Text(spec?["tier"]) == "Baseline" ? ClusterPolicyTier.Baseline : ClusterPolicyTier.Admin;
        var known = Text(spec?["tier"]) is "Admin" or "Baseline";
        if (!known)
        {
            problems?.Add($"spec.tier: {Quote(spec?["tier"])} is not Admin or Baseline; the policy selects no pod");
        }
        var priority = Int(spec?["priority"]) ?? 0;
        var subject = spec?["subject"];
        LabelSelectorInfo? namespaces = null;
        LabelSelectorInfo? pods = null;
        if (subject?["namespaces"] is JsonObject ns)
        {
            namespaces = Selector(ns);
        }
        else if (subject?["pods"] is JsonObject nsPod)
        {
            namespaces = Selector(nsPod["namespaceSelector"]);
            pods = Selector(nsPod["podSelector"]);
        }
        if (namespaces is null)
        {
            problems?.Add("spec.subject: neither namespaces nor pods (with a namespaceSelector); the policy selects no pod");
        }
        return new ClusterNetworkPolicyInfo(
            name,
            tier,
            priority,
            namespaces ?? LabelSelectorInfo.Everything,
            pods,
            Rules(spec?["ingress"], "spec.ingress", "from", problems),
            Rules(spec?["egress"], "spec.egress", "to", problems),
            SelectsNothing: !known || namespaces is null);
    }

    private static ClusterPolicyRuleInfo[] Rules(JsonNode? rules, string path, string peersField, List<string>? problems) =>
        (rules as JsonArray ?? []).Select((r, i) => r is JsonObject rule ? Rule(rule, $"{path}[{i}]", peersField, problems) : null).OfType<ClusterPolicyRuleInfo>().ToArray();

    private static ClusterPolicyRuleInfo? Rule(JsonObject rule, string path, string peersField, List<string>? problems)
    {
        ClusterPolicyAction? action = Text(rule["action"]) switch
        {
            "Accept" => ClusterPolicyAction.Accept,
            "Deny" => ClusterPolicyAction.Deny,
            "Pass" => ClusterPolicyAction.Pass,
            _ => null,
        };
        if (action is not { } a)
        {
            problems?.Add($"{path}.action: {Quote(rule["action"])} is not Accept, Deny or Pass; the rule is left out");
            return null;
        }
        var peers = new List<PolicyPeerInfo>();
        var unreadable = false;
        var failing = a == ClusterPolicyAction.Accept ? "the rule matches nothing" : "the rule matches all traffic";
        foreach (var (peer, i) in (rule[peersField] as JsonArray ?? []).Select((p, i) => (p, i)))
        {
            var read = Peer(peer);
            if (read.Count == 0)
            {
                unreadable = true;
                problems?.Add($"{path}.{peersField}[{i}]: no peer this version can read ({Fields(peer)}); {failing}");
            }
            peers.AddRange(read);
        }
        var ports = new List<PolicyPortInfo>();
        foreach (var (protocol, i) in (rule["protocols"] as JsonArray ?? []).Select((p, i) => (p, i)))
        {
            var read = Port(protocol);
            if (read.Count == 0)
            {
                unreadable = true;
                problems?.Add($"{path}.protocols[{i}]: no protocol this version can read ({Fields(protocol)}); {failing}");
            }
            ports.AddRange(read);
        }
        var name = Text(rule["name"]) ?? "";
        if (unreadable)
        {
            // Fail closed: an Accept that matches nothing, or a Deny/Pass over all traffic.
            return a == ClusterPolicyAction.Accept
                ? new ClusterPolicyRuleInfo(name, a, new PolicyRuleInfo([new PolicyPeerInfo(null, null, null)], []))
                : new ClusterPolicyRuleInfo(name, a, new PolicyRuleInfo([], []));
        }
        return new ClusterPolicyRuleInfo(name, a, new PolicyRuleInfo(peers, ports));
    }

    /// <summary>One peer as NetworkPolicy peers (every one with a namespace selector); empty when it has no field this version knows.</summary>
    private static List<PolicyPeerInfo> Peer(JsonNode? peer)
    {
        if (peer?["namespaces"] is JsonObject ns)
        {
            return [new PolicyPeerInfo(null, Selector(ns), null)];
        }
        if (peer?["pods"] is JsonObject pods)
        {
            return [new PolicyPeerInfo(Selector(pods["podSelector"]) ?? LabelSelectorInfo.Everything, Selector(pods["namespaceSelector"]) ?? LabelSelectorInfo.Everything, null)];
        }
        if (peer?["networks"] is JsonArray networks)
        {
            var cidrs = networks.Select(n => IPNetwork.TryParse(Text(n) ?? "", out var cidr) ? cidr : (IPNetwork?)null).ToArray();
            // A CIDR that does not parse (validation refuses it) makes the peer unreadable.
            return cidrs.Any(c => c is null) ? [] : cidrs.Select(c => new PolicyPeerInfo(null, null, new IpBlockInfo(c!.Value, []))).ToList();
        }
        return [];
    }

    /// <summary>One protocols entry as NetworkPolicy ports; empty when it has no field this version knows.</summary>
    private static List<PolicyPortInfo> Port(JsonNode? protocol)
    {
        if (Text(protocol?["destinationNamedPort"]) is { Length: > 0 } named)
        {
            // The name is looked up on the destination pod whatever the container port's protocol.
            return [new("TCP", PortName: named), new("UDP", PortName: named), new("SCTP", PortName: named)];
        }
        foreach (var (field, name) in new[] { ("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP") })
        {
            if (protocol?[field] is not JsonObject entry)
            {
                continue;
            }
            var port = entry["destinationPort"];
            if (port is null)
            {
                return [new(name)];
            }
            if (Int(port["number"]) is { } number)
            {
                return [new(name, number)];
            }
            if (port["range"] is JsonObject range && Int(range["start"]) is { } start && Int(range["end"]) is { } end)
            {
                return [new(name, start, EndPort: end)];
            }
            return [];
        }
        return [];
    }

    private static LabelSelectorInfo? Selector(JsonNode? selector)
    {
        if (selector is not JsonObject s)
        {
            return null;
        }
        var labels = (s["matchLabels"] as JsonObject ?? []).Where(p => Text(p.Value) is not null).ToDictionary(p => p.Key, p => Text(p.Value)!, StringComparer.Ordinal);
        var expressions = (s["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(e => new LabelRequirement(Text(e["key"]) ?? "", Text(e["operator"]) ?? "", (e["values"] as JsonArray ?? []).Select(Text).OfType<string>().ToArray()))
            .ToArray();
        return new LabelSelectorInfo(labels, expressions);
    }

    private static string Quote(JsonNode? node) => node is null ? "none" : "\"" + (Text(node) ?? node.ToJsonString()) + "\"";

    private static string Fields(JsonNode? node) => node is JsonObject o && o.Count > 0 ? string.Join(", ", o.Select(p => p.Key)) : "no field";

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static int? Int(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return null;
        }
        // A parsed value converts to either; one built in code only to the type it holds.
        return v.TryGetValue<int>(out var i) ? i : v.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;
    }
}
