namespace Podnet.Agent.Runtime;

/// <summary>
/// A pod's /etc/hosts as the kubelet manages it: localhost entries, the pod's own addresses
/// with its name (or "hostname.subdomain.namespace.svc.domain hostname" when the pod sets
/// spec.subdomain), then spec.hostAliases.
/// </summary>
public static class PodHosts
{
    public static string Build(string hostname, string? subdomain, string podNamespace, string clusterDomain, IReadOnlyList<string> podIPs, IReadOnlyList<(string Ip, IReadOnlyList<string> Hostnames)> hostAliases)
    {
        var lines = new List<string>
        {
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        };
        var names = string.IsNullOrEmpty(subdomain)
            ? hostname
            : $"{hostname}.{subdomain}.{podNamespace}.svc.{clusterDomain}\t{hostname}";
        lines.AddRange(podIPs.Select(ip => $"{ip}\t{names}"));
        if (hostAliases.Count > 0)
        {
            lines.Add("");
            lines.Add("# Entries added by HostAliases.");
            lines.AddRange(hostAliases.Select(a => $"{a.Ip}\t{string.Join('\t', a.Hostnames)}"));
        }
        return string.Join('\n', lines) + "\n";
    }
}
