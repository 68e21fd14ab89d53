using Podnet.Cni.Plan;
using Podnet.Cni.Spec;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Cni.Apply;

/// <summary>Makes an <see cref="AttachmentPlan"/> true: bridge, veth, addresses, routes, gateway, masquerade.</summary>
internal static class AttachmentApplier
{
    /// <summary>Ensures the bridge (shared by every pod, so never rolled back).</summary>
    public static void EnsureBridge(RtNetlink host, string name, int mtu, bool promisc, int vlan)
    {
        var bridge = host.FindLink(name);
        if (bridge is null)
        {
            try
            {
                host.CreateBridge(name, mtu, vlanFiltering: vlan != 0);
            }
            catch (KernelException e) when (e.IsExists)
            {
                // Another ADD created it at the same moment.
            }
            catch (KernelException e) when (e.Errno == 95 && vlan != 0)
            {
                throw new CniException(CniErrorCode.UnsupportedField, $"vlan={vlan} needs bridge VLAN filtering, which this kernel does not support: {e.Message}");
            }
            bridge = host.GetLink(name);
        }
        if (bridge.Kind != "bridge")
        {
            throw new CniException(CniErrorCode.InvalidConfig, $"bridge {name} exists but is a {bridge.Kind ?? "non-bridge"} link");
        }
        if (vlan != 0 && bridge.VlanFiltering != true)
        {
            try
            {
                host.SetBridgeVlanFiltering(name, true);
            }
            catch (KernelException e) when (e.Errno == 95)
            {
                throw new CniException(CniErrorCode.UnsupportedField, $"vlan={vlan} needs bridge VLAN filtering, which this kernel does not support: {e.Message}");
            }
        }
        if (!bridge.Up)
        {
            host.SetUp(name);
        }
        if (promisc)
        {
            host.SetPromisc(name, true);
        }
    }

    /// <summary>Creates and wires the veth pair; every step is pushed onto <paramref name="rollback"/>.</summary>
    public static LinkFacts Apply(AttachmentPlan plan, RtNetlink host, Netns container, RtNetlink pod, Rollback rollback)
    {
        CreateVeth(plan, host, container);
        rollback.Push($"delete {plan.HostVeth}", () => host.DeleteLink(plan.HostVeth));

        host.SetMaster(plan.HostVeth, plan.Bridge);
        if (plan.Hairpin)
        {
            host.SetBridgePort(plan.HostVeth, hairpin: true);
        }
        if (plan.Vlan != 0)
        {
            host.AddBridgeVlan(plan.HostVeth, (ushort)plan.Vlan, pvid: true, untagged: true);
            if (!plan.PreserveDefaultVlan)
            {
                host.DeleteBridgeVlan(plan.HostVeth, 1);
            }
        }
        host.SetUp(plan.HostVeth);

        foreach (var address in plan.ContainerAddresses)
        {
            pod.AddAddress(plan.ContainerIf, address, plan.NoDad);
        }
        pod.SetUp(plan.ContainerIf);
        var index = pod.IndexOf(plan.ContainerIf);
        foreach (var route in plan.ContainerRoutes)
        {
            try
            {
                pod.AddRoute(new RouteInfo { Destination = route.Destination, Gateway = route.Gateway, LinkIndex = index, Protocol = RouteInfo.ProtocolBoot });
            }
            catch (KernelException e) when (e.IsExists)
            {
                // The same route through this interface already exists (two IPAM routes that coincide).
            }
        }

        EnsureGatewayAddresses(host, plan);
        HostNamespace.EnsureSysctls(plan.HostSysctls);
        if (plan.Masquerade is { } masq)
        {
            HostNamespace.AddMasquerade(masq);
            rollback.Push("remove masquerade", () => HostNamespace.RemoveMasquerade(masq.NetworkName, masq.Sources));
        }

        var podLink = pod.GetLink(plan.ContainerIf);
        return new LinkFacts(host.GetLink(plan.Bridge).Mac, host.GetLink(plan.HostVeth).Mac, podLink.Mac, podLink.Mtu);
    }

    /// <summary>
    /// The gateway addresses on the bridge. Another address of the same subnet already there is
    /// an error unless forceAddress, which replaces it (the reference plugin's rule).
    /// </summary>
    private static void EnsureGatewayAddresses(RtNetlink host, AttachmentPlan plan)
    {
        if (plan.BridgeAddresses.Count == 0)
        {
            return;
        }
        var present = host.GetAddresses(host.IndexOf(plan.Bridge));
        foreach (var gateway in plan.BridgeAddresses)
        {
            foreach (var other in present.Where(a => a.Prefix.Family == gateway.Family && a.Prefix != gateway && a.Prefix.Network.Contains(gateway.Address)))
            {
                if (!plan.ForceAddress)
                {
                    throw new CniException(CniErrorCode.InvalidConfig,
                        $"bridge {plan.Bridge} already has {other.Prefix} in the subnet of gateway {gateway}; set forceAddress to replace it");
                }
                host.DeleteAddress(plan.Bridge, other.Prefix);
            }
            host.EnsureAddress(plan.Bridge, gateway);
        }
    }

    private static void CreateVeth(AttachmentPlan plan, RtNetlink host, Netns container)
    {
        try
        {
            host.CreateVeth(plan.HostVeth, plan.ContainerIf, container, plan.Mtu, peerMac: plan.ContainerMac);
        }
        catch (KernelException e) when (e.IsExists && host.FindLink(plan.HostVeth) is { Kind: "veth" } stale)
        {
            // A host end left by an ADD that died half-way: its name is ours alone, so replace it.
            host.DeleteLink(stale.Name);
            host.CreateVeth(plan.HostVeth, plan.ContainerIf, container, plan.Mtu, peerMac: plan.ContainerMac);
        }
    }
}
