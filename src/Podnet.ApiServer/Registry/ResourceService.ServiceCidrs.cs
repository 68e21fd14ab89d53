using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

/// <summary>
/// The IPAddress objects of Services' ClusterIPs and the ServiceCIDR finalizer, kept inside the
/// write that changes a Service, an IPAddress or a ServiceCIDR (upstream splits this between
/// the apiserver's allocator and kube-controller-manager's servicecidrs controller).
/// </summary>
internal sealed partial class ResourceService
{
    /// <summary>Creates the IPAddresses of a Service's new ClusterIPs and deletes those of the ones it let go.</summary>
    private void RecordServiceAddresses(StoreTransaction txn, JsonObject? before, JsonObject? after)
    {
        var service = after ?? before!;
        var (ns, name) = (service.Namespace(), service.Name());
        var want = ClusterIPs(after);
        var released = false;
        foreach (var ip in ClusterIPs(before).Except(want))
        {
            if (txn.Get(ResourceCatalog.IPAddresses.Key, "", ip.ToString()) is { } recorded && ServiceRanges.OwnedBy(recorded.Parse(), ns, name))
            {
                txn.Delete(ResourceCatalog.IPAddresses.Key, recorded.Parse());
                released = true;
            }
        }
        foreach (var ip in want)
        {
            if (txn.Get(ResourceCatalog.IPAddresses.Key, "", ip.ToString()) is null)
            {
                Create(txn, ResourceCatalog.IPAddresses, null, ServiceRanges.IPAddressOf(ip, ns, name));
            }
        }
        if (released)
        {
            ReleaseServiceCidrs(txn);
        }
    }

    /// <summary>At start: an IPAddress for every ClusterIP a Service holds without one (a state written before they existed).</summary>
    public void RecordAllServiceAddresses(StoreTransaction txn)
    {
        foreach (var stored in txn.List(ResourceCatalog.Services.Key, null))
        {
            var svc = stored.Parse();
            if (ClusterIPs(svc).Any(ip => txn.Get(ResourceCatalog.IPAddresses.Key, "", ip.ToString()) is null))
            {
                RecordServiceAddresses(txn, null, svc);
            }
        }
    }

    private static List<IPAddress> ClusterIPs(JsonObject? service) =>
        service is null ? [] : ServiceAllocator.Strings(service["spec"]?["clusterIPs"])
            .Select(s => IPAddress.TryParse(s, out var ip) ? ip : null).OfType<IPAddress>().ToList();

    /// <summary>
    /// A ServiceCIDR being deleted keeps its finalizer while an IPAddress inside it is covered
    /// by no other ServiceCIDR (its condition then says so); once none is, the finalizer goes
    /// and the ServiceCIDR with it.
    /// </summary>
    private void ReleaseServiceCidrs(StoreTransaction txn)
    {
        var all = txn.List(ResourceCatalog.ServiceCidrs.Key, null);
        var deleting = all.Where(c => c.Deleting && c.Parse().Finalizers().Contains(ServiceRanges.Finalizer)).ToList();
        if (deleting.Count == 0)
        {
            return;
        }
        var remaining = all.Where(c => !c.Deleting).SelectMany(c => ServiceRanges.Cidrs(c.Parse())).ToList();
        var orphans = txn.List(ResourceCatalog.IPAddresses.Key, null)
            .Select(a => IPAddress.TryParse(a.Name, out var ip) ? ip : null).OfType<IPAddress>()
            .Where(ip => !remaining.Any(c => c.Contains(ip)))
            .ToList();
        foreach (var stored in deleting)
        {
            var cidr = stored.Parse();
            var inUse = ServiceRanges.Cidrs(cidr).Any(c => orphans.Any(c.Contains));
            var ready = (cidr["status"]?["conditions"] as JsonArray ?? []).FirstOrDefault(c => (string?)c?["type"] == "Ready");
            if (inUse && (string?)ready?["reason"] == "Terminating")
            {
                continue;
            }
            Update(txn, ResourceCatalog.ServiceCidrs, "", stored.Name, Internal, current =>
            {
                if (inUse)
                {
                    current["status"] = new JsonObject
                    {
                        ["conditions"] = new JsonArray(ServiceRanges.Ready(false, "Terminating", "There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR")),
                    };
                }
                else
                {
                    current.SetFinalizers(current.Finalizers().Where(f => f != ServiceRanges.Finalizer).ToList());
                }
                return current;
            }, null);
        }
    }
}
