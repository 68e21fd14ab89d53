using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Lab.Topology;

/// <summary>
/// Makes a <see cref="LabPlan"/> real: the namespaces, the fabric bridge, one veth per host,
/// addresses and default routes. Everything is made inside the lab's own namespaces: veths
/// are created in the fabric namespace with their other end placed straight into the host's
/// namespace, so nothing ever appears in the root namespace, even for a moment.
/// </summary>
public static class LabBuilder
{
    /// <summary>Builds the topology; on failure removes whatever it had made and rethrows.</summary>
    public static void Up(LabPlan plan, Action<string>? progress = null)
    {
        var made = new List<string>();
        try
        {
            using var fabric = CreateNamespace(plan.FabricNetns, made);
            using var fabricRt = RtNetlink.Open(fabric);
            fabricRt.SetUp("lo");
            fabricRt.CreateBridge(LabPlanner.FabricBridge);
            fabricRt.SetUp(LabPlanner.FabricBridge);
            progress?.Invoke($"fabric {string.Join(", ", plan.FabricSubnets)} in {plan.FabricNetns}");
            foreach (var host in plan.Hosts)
            {
                AttachHost(host, fabricRt, made);
                progress?.Invoke($"{host.Name} at {string.Join(", ", host.Addresses.Select(a => a.Address))} in {host.Netns}");
            }
            SetLinkLoss(fabric, plan.LinkLoss);
        }
        catch
        {
            foreach (var name in made)
            {
                Netns.Delete(name);
            }
            throw;
        }
    }

    /// <summary>
    /// Removes every namespace of lab <paramref name="lab"/>, whether or not its plan is known
    /// (a crashed lab leaves only its namespaces). Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> Down(string lab)
    {
        LabName.Validate(lab);
        var removed = new List<string>();
        foreach (var name in Netns.List().Where(n => LabPlanner.IsLabNetns(n, lab)))
        {
            if (Netns.Delete(name))
            {
                removed.Add(name);
            }
        }
        return removed;
    }

    /// <summary>True when any namespace of lab <paramref name="lab"/> exists.</summary>
    public static bool Exists(string lab) => Netns.List().Any(n => LabPlanner.IsLabNetns(n, lab));

    private static void AttachHost(HostPlan host, RtNetlink fabric, List<string> made)
    {
        using var netns = CreateNamespace(host.Netns, made);
        using var rt = RtNetlink.Open(netns);
        rt.SetUp("lo");
        fabric.CreateVeth(host.FabricPort, "eth0", netns);
        fabric.SetMaster(host.FabricPort, LabPlanner.FabricBridge);
        fabric.SetUp(host.FabricPort);
        foreach (var address in host.Addresses)
        {
            rt.AddAddress("eth0", address);
        }
        rt.SetUp("eth0");
        var eth0 = rt.IndexOf("eth0");
        foreach (var gateway in host.Gateways)
        {
            var any = gateway.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? System.Net.IPAddress.Any : System.Net.IPAddress.IPv6Any;
            rt.AddRoute(new RouteInfo { Destination = new System.Net.IPNetwork(any, 0), Gateway = gateway, LinkIndex = eth0 });
        }
        if (host.Role is HostRole.Node or HostRole.Outside)
        {
            // Nodes forward for their pods; the outside host routes for the broader network.
            Sysctl.Set(netns, [new("net.ipv4.ip_forward", "1"), new("net.ipv6.conf.all.forwarding", "1")]);
        }
    }

    /// <summary>
    /// Packet loss on a node's link, each direction: a bridge-family nft rule on the node's
    /// fabric port with numgen (this kernel has no netem). Replaced whole, so it can be changed.
    /// </summary>
    public static void SetLinkLoss(Netns fabric, IReadOnlyDictionary<string, int> loss)
    {
        var tx = new Core.Plans.NftTransaction().ReplaceTable("bridge", LossTable);
        tx.Add($"add chain bridge {LossTable} forward {{ type filter hook forward priority 0 ; }}");
        foreach (var (node, percent) in loss.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            tx.Add($"add rule bridge {LossTable} forward iifname \"{node}\" numgen random mod 100 < {percent} counter drop");
            tx.Add($"add rule bridge {LossTable} forward oifname \"{node}\" numgen random mod 100 < {percent} counter drop");
        }
        Nft.Apply(fabric, tx.ToScript());
    }

    public const string LossTable = "podnet-loss";

    private static Netns CreateNamespace(string name, List<string> made)
    {
        var netns = Netns.Create(name);
        made.Add(name);
        return netns;
    }
}
