using Podnet.Core.Nft;
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
            foreach (var segment in plan.Fabrics)
            {
                fabricRt.CreateBridge(segment.Bridge);
                fabricRt.SetUp(segment.Bridge);
                progress?.Invoke($"fabric {string.Join(", ", segment.Networks)} on {segment.Bridge} in {plan.FabricNetns}");
            }
            if (plan.Router is not null)
            {
                AttachRouter(plan.Router, fabricRt, made);
                progress?.Invoke($"router joining {plan.Fabrics.Count} subnets in {plan.Router.Netns}");
            }
            foreach (var host in plan.Hosts)
            {
                AttachHost(host, fabricRt, made);
                progress?.Invoke($"{host.Name} at {string.Join(", ", host.Addresses.Select(a => a.Address))} in {host.Netns}");
            }
            if (plan.Router is not null)
            {
                RouteOutsideToSubnets(plan);
            }
            SetLinkLoss(fabric, plan.LinkLoss);
            if (plan.Network is { } network)
            {
                NetworkBuilder.Attach(plan);
                progress?.Invoke($"uplink at {string.Join(", ", network.UplinkAddresses.Select(a => a.Address))} on network {network.Name} ({network.Netns}), which routes {string.Join(", ", network.Routes)} here");
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

    /// <summary>
    /// Ends (SIGKILL) every process still inside a namespace of lab <paramref name="lab"/> — what
    /// no record names, such as a user's `podnet exec … &amp;` — and waits, up to five seconds,
    /// until none is left; without this such a process would outlive its lab in a namespace
    /// that no longer has a name. Returns how many there were.
    /// </summary>
    public static int EndProcesses(string lab)
    {
        LabName.Validate(lab);
        var identities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in Netns.List().Where(n => LabPlanner.IsLabNetns(n, lab)))
        {
            try
            {
                using var netns = Netns.Open(name);
                identities.Add(netns.Identity);
            }
            catch (KernelException)
            {
                // Removed meanwhile.
            }
        }
        var ended = new HashSet<int>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (ProcessSignals.InNetworkNamespaces(identities) is { Count: > 0 } left && DateTime.UtcNow < deadline)
        {
            foreach (var pid in left)
            {
                ProcessSignals.Kill(pid, ProcessSignals.SigKill);
                ended.Add(pid);
            }
            Thread.Sleep(20);
        }
        return ended.Count;
    }

    /// <summary>True when any namespace of lab <paramref name="lab"/> exists.</summary>
    public static bool Exists(string lab) => Netns.List().Any(n => LabPlanner.IsLabNetns(n, lab));

    private static void AttachHost(HostPlan host, RtNetlink fabric, List<string> made)
    {
        using var netns = CreateNamespace(host.Netns, made);
        using var rt = RtNetlink.Open(netns);
        rt.SetUp("lo");
        Plug(fabric, host.Bridge, host.FabricPort, netns, rt, "eth0", host.Addresses);
        AddDefaultRoutes(rt, "eth0", host.Gateways);
        if (host.Role is HostRole.Node or HostRole.Outside)
        {
            // Nodes forward for their pods; the outside host routes for the broader network.
            EnableForwarding(netns);
        }
    }

    private static void AttachRouter(RouterPlan router, RtNetlink fabric, List<string> made)
    {
        using var netns = CreateNamespace(router.Netns, made);
        using var rt = RtNetlink.Open(netns);
        rt.SetUp("lo");
        foreach (var port in router.Ports)
        {
            Plug(fabric, port.Bridge, port.FabricPort, netns, rt, port.Interface, port.Addresses);
        }
        AddDefaultRoutes(rt, router.Ports[0].Interface, router.Gateways);
        EnableForwarding(netns);
    }

    /// <summary>The outside host (the broader network's router) reaches the other subnets through the lab's router.</summary>
    private static void RouteOutsideToSubnets(LabPlan plan)
    {
        using var outside = Netns.Open(plan.Outside.Netns);
        using var rt = RtNetlink.Open(outside);
        var via = plan.Router!.Ports[0].Addresses;
        foreach (var segment in plan.Fabrics.Skip(1))
        {
            foreach (var network in segment.Networks)
            {
                var gateway = via.First(a => a.Family == network.BaseAddress.AddressFamily).Address;
                rt.AddRoute(new RouteInfo { Destination = network, Gateway = gateway });
            }
        }
    }

    /// <summary>A veth from <paramref name="bridge"/> (port <paramref name="port"/>) into <paramref name="netns"/> as <paramref name="name"/>, addressed and up.</summary>
    private static void Plug(RtNetlink fabric, string bridge, string port, Netns netns, RtNetlink rt, string name, IEnumerable<Core.Net.AddressPrefix> addresses)
    {
        fabric.CreateVeth(port, name, netns);
        fabric.SetMaster(port, bridge);
        fabric.SetUp(port);
        foreach (var address in addresses)
        {
            rt.AddAddress(name, address);
        }
        rt.SetUp(name);
    }

    private static void AddDefaultRoutes(RtNetlink rt, string link, IEnumerable<System.Net.IPAddress> gateways)
    {
        var index = rt.IndexOf(link);
        foreach (var gateway in gateways)
        {
            var any = gateway.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? System.Net.IPAddress.Any : System.Net.IPAddress.IPv6Any;
            rt.AddRoute(new RouteInfo { Destination = new System.Net.IPNetwork(any, 0), Gateway = gateway, LinkIndex = index });
        }
    }

    private static void EnableForwarding(Netns netns) =>
        Sysctl.Set(netns, [new("net.ipv4.ip_forward", "1"), new("net.ipv6.conf.all.forwarding", "1")]);

    /// <summary>
    /// Packet loss on a node's link, each direction: a bridge-family nft rule on the node's
    /// fabric port with numgen (this kernel has no netem). Replaced whole, so it can be changed.
    /// </summary>
    public static void SetLinkLoss(Netns fabric, IReadOnlyDictionary<string, int> loss)
    {
        var table = new NftTable(NftFamily.Bridge, LossTable);
        var forward = new NftChain("forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, 0));
        var tx = new NftTransaction().ReplaceTable(table).Add(table, forward);
        foreach (var (node, percent) in loss.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            tx.AddRule(table, forward.Name, $"iifname \"{node}\" numgen random mod 100 < {percent} counter drop");
            tx.AddRule(table, forward.Name, $"oifname \"{node}\" numgen random mod 100 < {percent} counter drop");
        }
        new NftRunner(fabric).Apply(tx);
    }

    public const string LossTable = "podnet-loss";

    private static Netns CreateNamespace(string name, List<string> made)
    {
        var netns = Netns.Create(name);
        made.Add(name);
        return netns;
    }
}
