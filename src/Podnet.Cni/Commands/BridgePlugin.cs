using System.Net;
using Podnet.Cni.Apply;
using Podnet.Cni.Config;
using Podnet.Cni.Ipam;
using Podnet.Cni.Plan;
using Podnet.Cni.Spec;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Cni.Commands;

/// <summary>podnet-cni's verbs: Config → Plan → Apply, with IPAM in-process or delegated.</summary>
internal sealed class BridgePlugin(CniEnvironment env, string stdin, Func<string, string?> getEnv)
{
    private readonly PluginConfig _config = NetConfParser.Parse(NetConfParser.Decode(stdin), env);

    public string? Run() => env.Command switch
    {
        "ADD" => Add(),
        "DEL" => Del(),
        "CHECK" => Check(),
        "GC" => Gc(),
        "STATUS" => Status(),
        _ => throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_COMMAND={env.Command} is not handled"),
    };

    private IIpam CreateIpam() => _config.Ipam is { } inProcess
        ? new PodnetIpam(inProcess, env.ContainerId, env.IfName)
        : new DelegatedIpam(_config.IpamType, env, stdin, getEnv);

    private string Add()
    {
        // In a chain the previous plugin's result comes as prevResult: it is read before anything
        // is touched (a bad one is a decode error) and passed through in our result.
        var previous = _config.PrevResult is { } p ? ResultConverter.Parse(p) : null;
        using var host = RtNetlink.OpenInCurrentNamespace();
        using var container = ContainerNamespace.OpenForAdd(env.NetnsPath!);
        using var pod = RtNetlink.Open(container);
        if (pod.FindLink(env.IfName) is not null)
        {
            throw new CniException(CniErrorCode.InterfaceExists, $"interface {env.IfName} already exists in {env.NetnsPath}");
        }
        var bridge = AttachmentApplier.EnsureBridge(host, _config.Bridge, _config.Mtu, _config.PromiscMode, _config.Vlan);
        var ipam = CreateIpam();
        var rollback = new Rollback();
        try
        {
            var ipamResult = ipam.Add();
            rollback.Push($"IPAM DEL ({_config.IpamType})", () => ipam.Del());
            var plan = AttachmentPlanner.Build(_config, env, ipamResult);
            var facts = AttachmentApplier.Apply(plan, host, bridge, container, pod, rollback);
            rollback.Commit();
            return ResultConverter.Serialize(AttachmentPlanner.BuildResult(plan, _config, facts, previous), _config.Version);
        }
        catch
        {
            rollback.Run();
            throw;
        }
    }

    /// <summary>Best effort: a missing namespace, interface or reservation is success (spec section 2).</summary>
    private string? Del()
    {
        // The host end by its derived name: deleting it takes the pod's end with it (a veth pair
        // is made and removed as one), and needs no netns, which containerd's DEL does not give.
        // Without a host end nothing of ours is left in the pod: its CNI_IFNAME is not touched.
        using (var host = RtNetlink.OpenInCurrentNamespace())
        {
            host.DeleteLink(AttachmentPlanner.HostVethName(_config.Name, env.ContainerId, env.IfName));
        }
        var released = CreateIpam().Del();
        if (_config.IpMasq)
        {
            var previous = PreviousAddresses();
            HostNamespace.RemoveMasquerade(_config.Name, released.Concat(previous).Distinct());
        }
        return null;
    }

    /// <summary>
    /// This attachment's addresses in prevResult (not those of other plugins of the chain), for
    /// teardown; DEL is best effort, so an unreadable prevResult gives none.
    /// </summary>
    private IReadOnlyList<IPAddress> PreviousAddresses()
    {
        try
        {
            return _config.PrevResult is { } p
                ? DelegatedIpam.AddressesOf(AttachmentPlanner.OwnIps(ResultConverter.Parse(p), env.IfName, env.NetnsPath))
                : [];
        }
        catch (CniException)
        {
            return [];
        }
    }

    private string? Check()
    {
        RequireVersion("0.4.0", "CHECK");
        if (_config.PrevResult is not { } previous)
        {
            throw new CniException(CniErrorCode.InvalidConfig, "CHECK needs prevResult (the ADD result)");
        }
        var addresses = AttachmentChecker.Check(_config, env, ResultConverter.Parse(previous));
        CreateIpam().Check(addresses);
        return null;
    }

    /// <summary>
    /// Removes what ADD made for every attachment not in the list: the veth pair (its host end by
    /// the derived name, which takes the pod's end with it when the netns still exists), the
    /// reservations and the masquerade elements. Keeps going past errors and reports them all.
    /// With a delegated IPAM the attachments are not known here: only the delegate's GC runs.
    /// </summary>
    private string? Gc()
    {
        RequireVersion("1.1.0", "GC");
        var valid = _config.ValidAttachments
            ?? throw new CniException(CniErrorCode.InvalidConfig, "GC needs cni.dev/valid-attachments (or cni.dev/attachments) in the configuration");
        var errors = new List<string>();
        var code = CniErrorCode.Internal;
        if (_config.Ipam is { } ipamConfig)
        {
            using var host = RtNetlink.OpenInCurrentNamespace();
            foreach (var (containerId, ifName) in new PodnetIpam(ipamConfig, "", "").StaleAttachments(valid))
            {
                var veth = AttachmentPlanner.HostVethName(_config.Name, containerId, ifName);
                try
                {
                    host.DeleteLink(veth);
                }
                catch (KernelException e)
                {
                    errors.Add($"delete {veth} of {containerId}/{ifName}: {e.Message}");
                }
            }
        }
        IReadOnlyList<IPAddress> released = [];
        try
        {
            released = CreateIpam().Gc(valid);
        }
        catch (CniException e)
        {
            errors.Add(e.Message);
            code = e.Code;
        }
        if (_config.IpMasq && released.Count > 0)
        {
            try
            {
                HostNamespace.RemoveMasquerade(_config.Name, released);
            }
            catch (NftException e)
            {
                errors.Add($"remove masquerade of {string.Join(", ", released)}: {e.Message}");
            }
        }
        if (errors.Count > 0)
        {
            throw new CniException(code, string.Join("; ", errors));
        }
        return null;
    }

    /// <summary>50 when no address is left; 51 when the bridge is gone or down while pods are attached to it.</summary>
    private string? Status()
    {
        RequireVersion("1.1.0", "STATUS");
        if (_config.Ipam is { } ipamConfig)
        {
            var attached = new PodnetIpam(ipamConfig, "", "").AttachmentCount();
            using var host = RtNetlink.OpenInCurrentNamespace();
            var bridge = host.FindLink(_config.Bridge);
            if (attached > 0 && bridge is not { Up: true })
            {
                throw new CniException(CniErrorCode.NotAvailableLimitedConnectivity,
                    $"bridge {_config.Bridge} is {(bridge is null ? "missing" : "down")}: {attached} existing attachment(s) of network {_config.Name} have no connectivity");
            }
        }
        CreateIpam().Status();
        return null;
    }

    private void RequireVersion(string minimum, string verb)
    {
        if (!CniVersion.AtLeast(_config.Version, minimum))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"{verb} needs cniVersion {minimum} or later, the configuration says {_config.Version}");
        }
    }
}

/// <summary>Opening CNI_NETNS, with the error a runtime can act on.</summary>
internal static class ContainerNamespace
{
    public static Netns OpenForAdd(string path)
    {
        Netns netns;
        try
        {
            netns = Netns.Open(path);
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_NETNS={path} does not exist");
        }
        if (!netns.IsNetworkNamespace)
        {
            netns.Dispose();
            throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_NETNS={path} is not a network namespace");
        }
        return netns;
    }

    /// <summary>The namespace at <paramref name="path"/>, or null when there is none (gone, or never one: nothing of ours can be inside).</summary>
    public static Netns? TryOpen(string path)
    {
        Netns netns;
        try
        {
            netns = Netns.Open(path);
        }
        catch (KernelException e) when (e.IsNotFound)
        {
            return null;
        }
        if (!netns.IsNetworkNamespace)
        {
            netns.Dispose();
            return null;
        }
        return netns;
    }
}
