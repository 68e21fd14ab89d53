using System.Security.Cryptography;
using System.Text;
using Podnet.Cni.Client;
using Podnet.Cni.Spec;
using Podnet.Kernel;

namespace Podnet.Agent.Runtime;

/// <summary>
/// A pod's network: its namespace, wired by the node's CNI conflist through the CNI client
/// (podnet-cni first, chained plugins allowed), and taken apart again. What an ADD made is
/// undone when a later step fails, so a failed pod start leaks no namespace and no address.
/// </summary>
public sealed class PodNetwork(AgentOptions options, CniClient cni)
{
    public const string InterfaceName = "eth0";

    /// <summary>Runs after CNI ADD and before any container starts (NetworkPolicy isolates the pod here).</summary>
    public Action<string, IReadOnlyList<string>>? AfterAdd { get; init; }

    private volatile bool _garbageDue;

    /// <summary>
    /// A DEL failed (the plugin crashed or was killed mid-way, say) since the last collection: what
    /// it was to release may still be held, and only a CNI GC with the live pods gives it back.
    /// </summary>
    public bool GarbageDue => _garbageDue;

    public string NetnsName(string uid) =>
        options.PodNetnsPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uid)))[..10];

    /// <summary>Creates the namespace and runs CNI ADD; returns the pod's addresses, IPv4 first.</summary>
    public IReadOnlyList<string> Setup(string uid, string ns, string name, string conflist)
    {
        var netns = NetnsName(uid);
        DeleteLeftover(netns); // of an earlier, interrupted attempt
        Netns.Create(netns).Dispose();
        var runtime = Runtime(uid, ns, name, netns);
        var network = NetworkConfigList.Parse(conflist, "the node's network configuration");
        try
        {
            var (_, result) = cni.Add(network, runtime);
            var ips = (result.Ips ?? [])
                .Select(ip => ip.Address.Split('/')[0])
                .OrderBy(ip => ip.Contains(':'))
                .ToArray();
            if (ips.Length == 0)
            {
                throw new InvalidOperationException("the CNI result has no address for the pod");
            }
            AfterAdd?.Invoke(netns, ips);
            return ips;
        }
        catch
        {
            TryDelete(network, runtime);
            DeleteLeftover(netns);
            throw;
        }
    }

    /// <summary>CNI DEL (which succeeds on what is already gone), then the namespace.</summary>
    public void Teardown(string uid, string ns, string name, string conflist)
    {
        var netns = NetnsName(uid);
        var network = NetworkConfigList.Parse(conflist, "the node's network configuration");
        TryDelete(network, Runtime(uid, ns, name, netns));
        // Whatever still runs in it goes first: a start that failed after the pod's holder was
        // forked but before its pid was recorded would otherwise leave the holder running in a
        // namespace nothing names any more (the churn suite found one).
        DeleteLeftover(netns);
    }

    /// <summary>Releases every attachment that no pod record claims (CNI GC), and namespaces of pods that are gone.</summary>
    public void CollectGarbage(string conflist, IReadOnlyCollection<string> liveUids)
    {
        var network = NetworkConfigList.Parse(conflist, "the node's network configuration");
        _garbageDue = false;
        try
        {
            cni.Gc(network, liveUids.Select(uid => new CniAttachment { ContainerId = uid, IfName = InterfaceName }).ToArray());
        }
        catch (Exception e)
        {
            _garbageDue = true;
            options.Log($"CNI GC: {e.Message}");
        }
        var live = liveUids.Select(NetnsName).ToHashSet(StringComparer.Ordinal);
        foreach (var leftover in Netns.List().Where(n => n.StartsWith(options.PodNetnsPrefix, StringComparison.Ordinal) && !live.Contains(n)))
        {
            options.Log($"removing leftover pod namespace {leftover}");
            DeleteLeftover(leftover);
        }
    }

    private void TryDelete(NetworkConfigList network, RuntimeConf runtime)
    {
        try
        {
            cni.Del(network, runtime);
        }
        catch (Exception e)
        {
            _garbageDue = true;
            options.Log($"CNI DEL for {runtime.ContainerId}: {e.Message}; a CNI GC follows");
        }
    }

    /// <summary>
    /// Removes a pod namespace no record claims, ending the processes still in it first: an agent
    /// killed while a pod started leaves its holder running there, and without its name the
    /// namespace (and the holder) would outlive every pod (found by the churn suite).
    /// </summary>
    private void DeleteLeftover(string netns)
    {
        if (!Netns.Exists(netns))
        {
            return;
        }
        string identity;
        using (var handle = Netns.Open(netns))
        {
            identity = handle.Identity;
        }
        var inside = ProcessSignals.InNetworkNamespaces(new HashSet<string>(StringComparer.Ordinal) { identity });
        foreach (var pid in inside)
        {
            ProcessSignals.Kill(pid, ProcessSignals.SigKill);
        }
        if (inside.Count > 0)
        {
            options.Log($"ended {inside.Count} leftover processes in {netns}");
        }
        Netns.Delete(netns);
    }

    private static RuntimeConf Runtime(string uid, string ns, string name, string netns) =>
        new(uid, Netns.PathOf(netns), InterfaceName, $"IgnoreUnknown=1;K8S_POD_NAMESPACE={ns};K8S_POD_NAME={name};K8S_POD_INFRA_CONTAINER_ID={uid};K8S_POD_UID={uid}");
}
