using Podnet.Cni.Spec;

namespace Podnet.Cni.Ipam;

/// <summary>host-local's resolvConf key: nameserver, domain, search and options lines of a resolv.conf file.</summary>
internal static class ResolvConf
{
    public static CniDns? Read(string? path)
    {
        if (path is null)
        {
            return null;
        }
        var dns = new CniDns();
        foreach (var raw in File.ReadLines(path))
        {
            var parts = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || parts[0].StartsWith('#'))
            {
                continue;
            }
            switch (parts[0])
            {
                case "nameserver": (dns.Nameservers ??= []).Add(parts[1]); break;
                case "domain": dns.Domain = parts[1]; break;
                case "search": (dns.Search ??= []).AddRange(parts.Skip(1)); break;
                case "options": (dns.Options ??= []).AddRange(parts.Skip(1)); break;
            }
        }
        return dns;
    }
}
