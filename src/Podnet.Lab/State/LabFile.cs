using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Podnet.Lab.State;

/// <summary>
/// A lab file: the settings of `lab up` as YAML (`kind: Lab`, schema in examples/lab.schema.json).
/// Every error names the field that is wrong; unknown fields are errors, so a typo never goes
/// unnoticed.
/// </summary>
/// <example>
/// apiVersion: podnet.io/v1alpha1
/// kind: Lab
/// metadata: {name: demo}
/// spec:
///   nodes: 3
///   routing: vxlan            # host-gw (default) or vxlan
///   architecture: island      # island (default), flat or isolated
///   ipFamily: ipv4            # ipv4 (default), ipv6 or dual
///   podCIDR: 10.245.0.0/16    # the cluster's pod CIDR(s), comma-separated per family
///   network: campus           # a shared network several labs attach to
///   nodeOptions:
///     n2: {subnet: 1, loss: 5, zone: b}   # L3 subnet of the node (0: the outside host's), packet loss in % each way, topology.kubernetes.io/zone
///   kubeconfig: /path/to/kubeconfig   # use this existing API server instead of starting one
///   controllers: nodeipam,scheduler   # the controllers the lab runs (default: all, or none with kubeconfig)
///   nodeGrace: 5s                     # a node silent this long is marked Unknown (default 40s)
///   policyDeny: reject                # what NetworkPolicy does with denied traffic: drop (default) or reject
///   dnsUpstreams: 172.18.0.1:5353     # where cluster DNS forwards other names (default: nowhere, SERVFAIL)
/// </example>
public static class LabFile
{
    public const string ApiVersion = "podnet.io/v1alpha1";

    /// <summary>
    /// How deep a lab file may nest: it needs four levels (spec.nodeOptions.NODE.subnet), and
    /// YamlStream builds its tree recursively, so 100,000 nested [ would overflow the stack (as
    /// they did in the API server); anything deeper is refused before it is loaded.
    /// </summary>
    private const int MaxDepth = 32;

    public static LabSettings Parse(string text)
    {
        var stream = new YamlStream();
        try
        {
            CheckDepth(text);
            stream.Load(new StringReader(text));
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner throws the last two on some malformed scalars and escapes.
            throw new FormatException($"the lab file is not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException("the lab file must hold one YAML mapping (kind: Lab)");
        }
        Only(root, "", "apiVersion", "kind", "metadata", "spec");
        if (Text(root, "kind") != "Lab")
        {
            throw new FormatException($"kind: must be Lab, not '{Text(root, "kind")}'");
        }
        if (Text(root, "apiVersion") is { } version && version != ApiVersion)
        {
            throw new FormatException($"apiVersion: must be {ApiVersion}, not '{version}'");
        }
        var settings = new LabSettings();
        if (Child(root, "metadata") is { } metadata)
        {
            Only(metadata, "metadata.", "name");
            settings = settings with { Name = Text(metadata, "name") ?? settings.Name };
        }
        if (Child(root, "spec") is not { } spec)
        {
            return settings;
        }
        Only(spec, "spec.", "nodes", "routing", "architecture", "ipFamily", "podCIDR", "network", "nodeOptions", "kubeconfig", "controllers", "dnsUpstreams", "nodeGrace", "policyDeny");
        if (Text(spec, "network") is { } network && !Topology.NetworkName.IsValid(network, out var networkError))
        {
            throw new FormatException($"spec.network: {networkError}");
        }
        if (Text(spec, "dnsUpstreams") is { } upstreams)
        {
            try
            {
                _ = LabSettings.SplitUpstreams(upstreams);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"spec.dnsUpstreams: {e.Message}");
            }
        }
        if (Text(spec, "nodeGrace") is { } grace)
        {
            try
            {
                LabSettings.CheckNodeGrace(grace);
            }
            catch (FormatException e)
            {
                throw new FormatException($"spec.nodeGrace: {e.Message}");
            }
        }
        settings = settings with
        {
            NodeGrace = Text(spec, "nodeGrace"),
            PolicyDeny = OneOf(spec, "policyDeny", "spec.policyDeny", "drop", "reject"),
            DnsUpstreams = Text(spec, "dnsUpstreams"),
            Nodes = Number(spec, "nodes", "spec.nodes") ?? settings.Nodes,
            Routing = OneOf(spec, "routing", "spec.routing", "host-gw", "vxlan") ?? settings.Routing,
            Architecture = OneOf(spec, "architecture", "spec.architecture", "island", "flat", "isolated") ?? settings.Architecture,
            IpFamily = OneOf(spec, "ipFamily", "spec.ipFamily", "ipv4", "ipv6", "dual") ?? settings.IpFamily,
            ExternalKubeconfig = Text(spec, "kubeconfig"),
            Controllers = Text(spec, "controllers"),
            PodCidr = Text(spec, "podCIDR") ?? settings.PodCidr,
            Network = Text(spec, "network") ?? settings.Network,
        };
        var subnets = new Dictionary<string, int>();
        var loss = new Dictionary<string, int>();
        var zones = new Dictionary<string, string>();
        if (Child(spec, "nodeOptions") is { } options)
        {
            foreach (var (key, value) in options.Children)
            {
                if (key is not YamlScalarNode { Value: { } node })
                {
                    throw new FormatException("spec.nodeOptions: node names must be plain strings");
                }
                var path = $"spec.nodeOptions.{node}";
                if (value is not YamlMappingNode nodeOptions)
                {
                    throw new FormatException($"{path}: must be a mapping (subnet, loss, zone)");
                }
                if (nodeOptions.Children.ContainsKey(new YamlScalarNode("delay")))
                {
                    throw new FormatException($"{path}.delay: link delay is not supported: this kernel has no netem (packet loss is, with {path}.loss)");
                }
                Only(nodeOptions, path + ".", "subnet", "loss", "zone");
                if (Text(nodeOptions, "zone") is { } zone)
                {
                    zones[node] = ZoneLabel(zone, path + ".zone");
                }
                if (Number(nodeOptions, "subnet", path + ".subnet") is { } subnet)
                {
                    subnets[node] = subnet;
                }
                if (Number(nodeOptions, "loss", path + ".loss") is { } percent)
                {
                    loss[node] = percent;
                }
            }
        }
        return settings with { NodeSubnets = subnets, LinkLoss = loss, NodeZones = zones };
    }

    /// <summary>A zone is a label value: at most 63 characters, alphanumerics with '-', '_' or '.' between.</summary>
    private static string ZoneLabel(string zone, string path) =>
        zone.Length is > 0 and <= 63 && char.IsAsciiLetterOrDigit(zone[0]) && char.IsAsciiLetterOrDigit(zone[^1]) && zone.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? zone
            : throw new FormatException($"{path}: '{zone}' is not a label value (1-63 characters, alphanumerics with '-', '_' or '.' between)");

    private static void CheckDepth(string text)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart && ++depth > MaxDepth)
            {
                throw new FormatException($"the lab file nests more than {MaxDepth} levels deep");
            }
            if (parser.Current is YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd)
            {
                depth--;
            }
        }
    }

    private static void Only(YamlMappingNode node, string prefix, params string[] allowed)
    {
        if (node.Children.Keys.Any(k => k is not YamlScalarNode))
        {
            throw new FormatException($"{(prefix.Length == 0 ? "the lab file" : prefix.TrimEnd('.'))}: field names must be plain strings");
        }
        foreach (var key in node.Children.Keys.OfType<YamlScalarNode>())
        {
            if (!allowed.Contains(key.Value))
            {
                throw new FormatException($"{prefix}{key.Value}: unknown field (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    private static YamlMappingNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    private static string? Text(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;

    private static int? Number(YamlMappingNode node, string key, string path)
    {
        var text = Text(node, key);
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{path}: must be a whole number, not '{text}'");
    }

    private static string? OneOf(YamlMappingNode node, string key, string path, params string[] values)
    {
        var text = Text(node, key);
        return text is null || values.Contains(text) ? text : throw new FormatException($"{path}: must be one of {string.Join(", ", values)}, not '{text}'");
    }
}
