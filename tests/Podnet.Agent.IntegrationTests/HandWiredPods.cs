using System.Net;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// Pods wired by hand on a lab node (bridge pn0 at 10.244.N.1, one pod at 10.244.N.10),
/// standing in for the CNI plugin in tests of routing alone.
/// </summary>
internal static class HandWiredPods
{
    public static Netns Add(RtNetlink node, string lab, int n, int mtu = 0)
    {
        node.CreateBridge("pn0", mtu: mtu);
        node.AddAddress("pn0", AddressPrefix.Parse($"10.244.{n}.1/24"));
        node.SetUp("pn0");
        var pod = Netns.Create($"pn-t{lab}-pod{n}");
        using var podRt = RtNetlink.Open(pod);
        node.CreateVeth("vpod", "eth0", pod, mtu: mtu);
        node.SetMaster("vpod", "pn0");
        node.SetUp("vpod");
        podRt.SetUp("lo");
        podRt.AddAddress("eth0", AddressPrefix.Parse($"10.244.{n}.10/24"));
        podRt.SetUp("eth0");
        podRt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse($"10.244.{n}.1") });
        return pod;
    }

    public static void Remove(IEnumerable<Netns> pods)
    {
        foreach (var pod in pods)
        {
            pod.Dispose();
            Netns.Delete(pod.Name!);
        }
    }
}
