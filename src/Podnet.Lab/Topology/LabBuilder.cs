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
            progress?.Invoke($"fabric {plan.FabricSubnet} in {plan.FabricNetns}");
            foreach (var host in plan.Hosts)
            {
                AttachHost(host, fabricRt, made);
                progress?.Invoke($"{host.Name} at {host.Address.Address} in {host.Netns}");
            }
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
        rt.AddAddress("eth0", host.Address);
        rt.SetUp("eth0");
        if (host.Gateway is not null)
        {
            rt.AddRoute(new RouteInfo
            {
                Destination = new System.Net.IPNetwork(host.Gateway.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? System.Net.IPAddress.Any : System.Net.IPAddress.IPv6Any, 0),
                Gateway = host.Gateway,
                LinkIndex = rt.IndexOf("eth0"),
            });
        }
        if (host.Role is HostRole.Node or HostRole.Outside)
        {
            // Nodes forward for their pods; the outside host routes for the broader network.
            Sysctl.Set(netns, "net.ipv4.ip_forward", "1");
        }
    }

    private static Netns CreateNamespace(string name, List<string> made)
    {
        var netns = Netns.Create(name);
        made.Add(name);
        return netns;
    }
}
