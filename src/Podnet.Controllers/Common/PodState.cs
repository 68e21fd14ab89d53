using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace Podnet.Controllers.Common;

/// <summary>Facts about a pod that several controllers need, read the way upstream reads them.</summary>
public static class PodState
{
    public static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    public static bool IsTerminating(V1Pod pod) => pod.Metadata?.DeletionTimestamp is not null;

    /// <summary>True when the pod has a Ready condition with status True.</summary>
    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Ready, and has been for at least <paramref name="minReadySeconds"/> at <paramref name="now"/>.</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTime now)
    {
        var ready = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready" && c.Status == "True");
        if (ready is null)
        {
            return false;
        }
        if (minReadySeconds <= 0)
        {
            return true;
        }
        return ready.LastTransitionTime is { } since && since.AddSeconds(minReadySeconds) <= now;
    }

    /// <summary>The pod's addresses: status.podIPs, else status.podIP.</summary>
    public static IReadOnlyList<IPAddress> Addresses(V1Pod pod)
    {
        var texts = pod.Status?.PodIPs is { Count: > 0 } ips
            ? ips.Select(ip => ip.Ip)
            : pod.Status?.PodIP is { Length: > 0 } single ? [single] : [];
        var result = new List<IPAddress>();
        foreach (var text in texts)
        {
            if (IPAddress.TryParse(text, out var address))
            {
                result.Add(address);
            }
        }
        return result;
    }

    public static string AddressType(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    public static string Key(V1ObjectMeta meta) => $"{meta.NamespaceProperty}/{meta.Name}";
}
