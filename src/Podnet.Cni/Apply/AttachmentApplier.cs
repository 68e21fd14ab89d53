using Podnet.Cni.Plan;
using Podnet.Cni.Spec;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Cni.Apply;

/// <summary>Makes an <see cref="AttachmentPlan"/> true: bridge, veth, addresses, routes, gateway, masquerade.</summary>
internal static class AttachmentApplier
{
    /// <summary>Ensures the bridge (shared by every pod, so never rolled back); returns it.</summary>
    public static LinkInfo EnsureBridge(RtNetlink host, string name, int mtu, bool promisc, int vlan)
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
        return bridge;
    }

    /// <summary>
    /// Creates and wires the veth pair; every step is pushed onto <paramref name="rollback"/>.
    /// Round trips are few: the pair is made as a port of the bridge, its host end up, with MACs
    /// chosen here, so the host end is never looked up again.
    /// </summary>
    public static LinkFacts Apply(AttachmentPlan plan, RtNetlink host, LinkInfo bridge, Netns container, RtNetlink pod, Rollback rollback)
    {
        var hostMac = RandomLocalMac();
        CreateVeth(plan, host, bridge.Index, hostMac, container);
        rollback.Push($"delete {plan.HostVeth}", () => host.DeleteLink(plan.HostVeth));

        if (plan.Hairpin)
        {
            host.SetBridgePortHairpin(plan.HostVeth, true);
        }
        if (plan.Vlan != 0)
        {
            host.AddBridgeVlan(plan.HostVeth, (ushort)plan.Vlan, pvid: true, untagged: true);
            if (!plan.PreserveDefaultVlan)
            {
                host.DeleteBridgeVlan(plan.HostVeth, 1);
            }
        }

        pod.SetUp(plan.ContainerIf);
        var podLink = pod.GetLink(plan.ContainerIf);
        foreach (var address in plan.ContainerAddresses)
        {
            pod.AddAddress(podLink.Index, address, plan.NoDad);
        }
        foreach (var route in plan.ContainerRoutes)
        {
            try
            {
                pod.AddRoute(new RouteInfo { Destination = route.Destination, Gateway = route.Gateway, LinkIndex = podLink.Index, Protocol = RouteInfo.ProtocolBoot });
            }
            catch (KernelException e) when (e.IsExists)
            {
                // The same route through this interface already exists (two IPAM routes that coincide).
            }
        }

        EnsureGatewayAddresses(host, bridge.Index, plan);
        HostNamespace.EnsureSysctls(plan.HostSysctls);
        if (plan.Masquerade is { } masq)
        {
            HostNamespace.AddMasquerade(masq);
            rollback.Push("remove masquerade", () => HostNamespace.RemoveMasquerade(masq.NetworkName, masq.Sources));
        }

        // The bridge's MAC is read last: without one set, it follows its lowest port MAC.
        return new LinkFacts(host.GetLink(plan.Bridge).Mac, hostMac, podLink.Mac, podLink.Mtu);
    }

    /// <summary>
    /// The gateway addresses on the bridge. Another address of the same subnet already there is
    /// an error unless forceAddress, which replaces it (the reference plugin's rule).
    /// </summary>
    private static void EnsureGatewayAddresses(RtNetlink host, int bridgeIndex, AttachmentPlan plan)
    {
        if (plan.BridgeAddresses.Count == 0)
        {
            return;
        }
        var present = host.GetAddresses(bridgeIndex);
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
            if (!present.Any(a => a.Prefix == gateway))
            {
                host.EnsureAddress(plan.Bridge, gateway);
            }
        }
    }

    private static void CreateVeth(AttachmentPlan plan, RtNetlink host, int bridgeIndex, MacAddress hostMac, Netns container)
    {
        var podMac = plan.ContainerMac ?? RandomLocalMac();
        try
        {
            host.CreateVeth(plan.HostVeth, plan.ContainerIf, container, plan.Mtu, hostMac, podMac, bridgeIndex, up: true);
        }
        catch (KernelException e) when (e.IsExists && host.FindLink(plan.HostVeth) is { Kind: "veth" } stale)
        {
            // A host end left by an ADD that died half-way: its name is ours alone, so replace it.
            host.DeleteLink(stale.Name);
            host.CreateVeth(plan.HostVeth, plan.ContainerIf, container, plan.Mtu, hostMac, podMac, bridgeIndex, up: true);
        }
    }

    /// <summary>A random locally administered unicast MAC, as the kernel would pick (eth_random_addr).</summary>
    private static MacAddress RandomLocalMac()
    {
        Span<byte> bytes = stackalloc byte[6];
        Random.Shared.NextBytes(bytes);
        return MacAddress.LocalFrom(bytes);
    }
}
