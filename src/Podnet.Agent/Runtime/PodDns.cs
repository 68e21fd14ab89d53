namespace Podnet.Agent.Runtime;

/// <summary>A pod's DNS settings as the API has them (spec.dnsPolicy and spec.dnsConfig).</summary>
public sealed record PodDnsSpec
{
    /// <summary>ClusterFirst (the default), ClusterFirstWithHostNet, Default or None.</summary>
    public string Policy { get; init; } = "ClusterFirst";

    public bool HostNetwork { get; init; }

    public IReadOnlyList<string> Nameservers { get; init; } = [];

    public IReadOnlyList<string> Searches { get; init; } = [];

    /// <summary>dnsConfig.options: name and optional value (ndots, 2).</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Options { get; init; } = [];
}

/// <summary>What the node knows about DNS: the cluster's resolver and the node's own resolv.conf.</summary>
public sealed record NodeDns(string ClusterDns, string ClusterDomain, string HostResolvConf);

/// <summary>
/// A pod's /etc/resolv.conf, as the kubelet writes it. ClusterFirst: the cluster DNS address,
/// search "&lt;ns&gt;.svc.&lt;domain&gt; svc.&lt;domain&gt; &lt;domain&gt;" followed by the node's own search
/// domains, options ndots:5. Default: the node's resolv.conf. None: only dnsConfig.
/// dnsConfig's nameservers and searches are appended (without repeats) and its options
/// override those of the same name. ClusterFirst on a hostNetwork pod falls back to Default
/// unless the policy is ClusterFirstWithHostNet. At most 3 nameservers and 32 search domains.
/// </summary>
public static class PodDns
{
    public const int MaxNameservers = 3;
    public const int MaxSearches = 32;

    /// <summary>The file, or an error naming what is wrong with the pod's DNS settings.</summary>
    public static string Build(string podNamespace, PodDnsSpec spec, NodeDns node)
    {
        var host = ParseResolvConf(node.HostResolvConf);
        var policy = spec.Policy switch
        {
            "ClusterFirst" when spec.HostNetwork => "Default",
            "ClusterFirstWithHostNet" => "ClusterFirst",
            var p => p,
        };
        List<string> nameservers, searches;
        List<KeyValuePair<string, string?>> options;
        switch (policy)
        {
            case "ClusterFirst":
                nameservers = [node.ClusterDns];
                var domain = node.ClusterDomain;
                searches = [$"{podNamespace}.svc.{domain}", $"svc.{domain}", domain, .. host.Searches];
                options = [new("ndots", "5")];
                break;
            case "Default":
                (nameservers, searches, options) = (host.Nameservers.ToList(), host.Searches.ToList(), host.Options.ToList());
                break;
            case "None":
                (nameservers, searches, options) = ([], [], []);
                if (spec.Nameservers.Count == 0)
                {
                    throw new ArgumentException("spec.dnsConfig.nameservers: with dnsPolicy None, at least one nameserver is required");
                }
                break;
            default:
                throw new ArgumentException($"spec.dnsPolicy: unsupported value \"{spec.Policy}\"");
        }
        AppendDistinct(nameservers, spec.Nameservers);
        AppendDistinct(searches, spec.Searches);
        foreach (var option in spec.Options)
        {
            options.RemoveAll(o => o.Key == option.Key);
            options.Add(option);
        }
        return Format(nameservers.Take(MaxNameservers), searches.Take(MaxSearches), options);
    }

    private static void AppendDistinct(List<string> list, IEnumerable<string> more)
    {
        foreach (var item in more)
        {
            if (!list.Contains(item))
            {
                list.Add(item);
            }
        }
    }

    private static string Format(IEnumerable<string> nameservers, IEnumerable<string> searches, IEnumerable<KeyValuePair<string, string?>> options)
    {
        var lines = nameservers.Select(n => $"nameserver {n}").ToList();
        var search = searches.ToArray();
        if (search.Length > 0)
        {
            lines.Add("search " + string.Join(' ', search));
        }
        var option = options.Select(o => o.Value is null ? o.Key : $"{o.Key}:{o.Value}").ToArray();
        if (option.Length > 0)
        {
            lines.Add("options " + string.Join(' ', option));
        }
        return string.Join('\n', lines) + "\n";
    }

    private static (string[] Nameservers, string[] Searches, KeyValuePair<string, string?>[] Options) ParseResolvConf(string text)
    {
        var nameservers = new List<string>();
        var searches = new List<string>();
        var options = new List<KeyValuePair<string, string?>>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Split('#', ';')[0].Trim();
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2)
            {
                continue;
            }
            switch (fields[0])
            {
                case "nameserver": nameservers.Add(fields[1]); break;
                case "search" or "domain": searches.Clear(); searches.AddRange(fields.Skip(1)); break;
                case "options":
                    foreach (var o in fields.Skip(1))
                    {
                        var colon = o.IndexOf(':');
                        options.Add(colon < 0 ? new(o, null) : new(o[..colon], o[(colon + 1)..]));
                    }
                    break;
            }
        }
        return (nameservers.ToArray(), searches.ToArray(), options.ToArray());
    }
}
