using System.Net;
using Podnet.Cni.Client;
using Podnet.Cni.Config;
using Podnet.Cni.Spec;
using Podnet.Core.Net;

namespace Podnet.Cni.Ipam;

/// <summary>
/// An IPAM plugin from CNI_PATH (spec section 4): the same environment with the verb set, the
/// whole network configuration on stdin, its result parsed from any supported version.
/// </summary>
internal sealed class DelegatedIpam(string type, CniEnvironment env, string stdin, Func<string, string?> getEnv) : IIpam
{
    public CniResult Add() => ResultConverter.Parse(Run("ADD"));

    public IReadOnlyList<IPAddress> Del()
    {
        Run("DEL");
        return [];
    }

    /// <summary>The delegate gets prevResult on its stdin and compares on its own.</summary>
    public void Check(IReadOnlyList<IPAddress>? expected) => Run("CHECK");

    public IReadOnlyList<IPAddress> Gc(IReadOnlyList<CniAttachment> valid)
    {
        Run("GC");
        return [];
    }

    public void Status() => Run("STATUS");

    /// <summary>The addresses of result ips (e.g. for masquerade teardown after a DEL, or to CHECK a reservation).</summary>
    public static IReadOnlyList<IPAddress> AddressesOf(IEnumerable<CniIpConfig> ips) =>
        ips.Select(i => AddressPrefix.TryParse(i.Address, out var p) ? p.Address : null).OfType<IPAddress>().ToArray();

    private string Run(string command)
    {
        var binary = PluginExecutor.Find(type, env.Path);
        var environment = new Dictionary<string, string?>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = getEnv("CNI_CONTAINERID"),
            ["CNI_NETNS"] = getEnv("CNI_NETNS"),
            ["CNI_IFNAME"] = getEnv("CNI_IFNAME"),
            ["CNI_ARGS"] = getEnv("CNI_ARGS"),
            ["CNI_PATH"] = getEnv("CNI_PATH"),
        };
        return PluginExecutor.Run(binary, environment, stdin);
    }
}
