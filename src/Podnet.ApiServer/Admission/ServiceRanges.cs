using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// networking.k8s.io/v1 ServiceCIDR and IPAddress facts, as upstream's allocator and ServiceCIDR
/// controllers use them: what ranges ClusterIPs come from, and how an allocated address is recorded.
/// </summary>
/// <remarks>
/// Design: the IPAddress objects are the allocator's index. An address is taken exactly when
/// its IPAddress (named by the address in canonical form) exists, so allocation looks up one key
/// per candidate instead of listing and parsing every Service; they are written in the same
/// store transaction as the Service, so they cannot drift from it. The ranges are the
/// ServiceCIDR objects that are not being deleted (the default `kubernetes` one reflects the
/// server's --service-cidr), so creating another ServiceCIDR widens what the allocator uses.
/// </remarks>
internal static class ServiceRanges
{
    public const string DefaultName = "kubernetes";
    public const string Finalizer = "networking.k8s.io/service-cidr-finalizer";
    public const string FamilyLabel = "ipaddress.kubernetes.io/ip-family";
    public const string ManagedByLabel = "ipaddress.kubernetes.io/managed-by";
    public const string AllocatorName = "ipallocator.k8s.io";

    /// <summary>A new ServiceCIDR: the finalizer that keeps it while addresses in it are in use, and Ready.</summary>
    public static void Created(JsonObject cidr)
    {
        var finalizers = cidr.Finalizers();
        if (!finalizers.Contains(Finalizer))
        {
            finalizers.Add(Finalizer);
            cidr.SetFinalizers(finalizers);
        }
        cidr["status"] = new JsonObject { ["conditions"] = new JsonArray(Ready(true, "", cidr.Name() == DefaultName ? "Kubernetes default Service CIDR is ready" : "")) };
    }

    public static JsonObject Ready(bool ready, string reason, string message)
    {
        var condition = new JsonObject { ["type"] = "Ready", ["status"] = ready ? "True" : "False", ["lastTransitionTime"] = ObjectMeta.Timestamp(DateTimeOffset.UtcNow) };
        if (reason.Length > 0)
        {
            condition["reason"] = reason;
        }
        if (message.Length > 0)
        {
            condition["message"] = message;
        }
        return condition;
    }

    /// <summary>The ranges ClusterIPs come from: every ServiceCIDR not being deleted, else (no objects yet) the configured ones.</summary>
    public static List<IPNetwork> Ranges(StoreTransaction txn, IReadOnlyList<IPNetwork> configured)
    {
        var ranges = txn.List(ResourceCatalog.ServiceCidrs.Key, null)
            .Where(c => !c.Deleting)
            .OrderBy(c => c.Name == DefaultName ? 0 : 1).ThenBy(c => c.Name, StringComparer.Ordinal)
            .SelectMany(c => Cidrs(c.Parse()))
            .ToList();
        return ranges.Count > 0 ? ranges : [.. configured];
    }

    public static IEnumerable<IPNetwork> Cidrs(JsonObject cidr) =>
        (cidr["spec"]?["cidrs"] as JsonArray ?? []).Select(c => IPNetwork.TryParse((string?)c, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>();

    public static string Family(IPAddress ip) => ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    /// <summary>The IPAddress recording <paramref name="ip"/> as allocated to a Service, as upstream's allocator writes it.</summary>
    public static JsonObject IPAddressOf(IPAddress ip, string ns, string service) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = ip.ToString(),
            ["labels"] = new JsonObject { [FamilyLabel] = Family(ip), [ManagedByLabel] = AllocatorName },
        },
        ["spec"] = new JsonObject
        {
            ["parentRef"] = new JsonObject { ["group"] = "", ["resource"] = "services", ["namespace"] = ns, ["name"] = service },
        },
    };

    /// <summary>True when the IPAddress's parent is the Service <paramref name="ns"/>/<paramref name="name"/>.</summary>
    public static bool OwnedBy(JsonObject address, string ns, string name) =>
        address["spec"]?["parentRef"] is JsonObject parent && (string?)parent["resource"] == "services"
        && (string?)parent["namespace"] == ns && (string?)parent["name"] == name;
}
