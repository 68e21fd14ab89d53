using Podnet.Cni.Plan;
using Podnet.Kernel;

namespace Podnet.Cni.Apply;

/// <summary>Sysctls and nftables in the namespace the plugin runs in (the node's).</summary>
internal static class HostNamespace
{
    public static void EnsureSysctls(IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (values.Count == 0)
        {
            return;
        }
        // The plugin's main thread never enters another namespace, so /proc/sys is the node's.
        foreach (var (key, value) in values)
        {
            if (Sysctl.GetInCurrentNamespace(key) != value)
            {
                Sysctl.SetInCurrentNamespace(key, value);
            }
        }
    }

    public static void AddMasquerade(MasqueradePlan plan)
    {
        using var self = Netns.OpenCurrent();
        Nft.Apply(self, MasqueradeRules.BuildAdd(plan));
    }

    /// <summary>Removes the addresses from the masquerade set; absent ones (or no table) are fine.</summary>
    public static void RemoveMasquerade(string network, IEnumerable<System.Net.IPAddress> sources)
    {
        using var self = Netns.OpenCurrent();
        foreach (var script in MasqueradeRules.BuildRemove(network, sources))
        {
            try
            {
                Nft.Apply(self, script);
            }
            catch (NftException e) when (e.Message.Contains("No such file or directory", StringComparison.Ordinal))
            {
            }
        }
    }
}
