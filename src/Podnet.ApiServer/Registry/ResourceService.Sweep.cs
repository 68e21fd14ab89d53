using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

internal sealed partial class ResourceService
{
    /// <summary>
    /// Finishes the deletions that had to wait: pods whose grace has expired on a node that is
    /// gone (or that never had one), owners deleted in the foreground whose dependents are
    /// gone, and terminating namespaces that have emptied. Runs in one write.
    /// </summary>
    public Task<int> SweepAsync() => store.WriteAsync(Sweep);

    private int Sweep(StoreTransaction txn)
    {
        var now = clock.GetUtcNow();
        var finished = 0;
        foreach (var r in Crds.All.ToList())
        {
            foreach (var item in store.List(r.Key, null).Items.Where(i => i.Deleting))
            {
                if (txn.Get(r.Key, item.Namespace, item.Name) is not { } live)
                {
                    continue;
                }
                var obj = live.Parse();
                if (r == ResourceCatalog.Namespaces)
                {
                    finished += DeleteNamespace(txn, obj, now) is null ? 1 : 0;
                }
                else if (r == ResourceCatalog.CustomResourceDefinitions)
                {
                    finished += DeleteDefinition(txn, obj, now) is null ? 1 : 0;
                }
                else if (r == ResourceCatalog.Pods && IsGracefulPod(r, obj))
                {
                    var node = (string?)obj["spec"]?["nodeName"] ?? "";
                    var expired = ObjectMeta.ParseTimestamp(obj.Meta()["deletionTimestamp"]) <= now;
                    if (expired && (node.Length == 0 || txn.Get(ResourceCatalog.Nodes.Key, "", node) is null) && obj.Finalizers().Count == 0)
                    {
                        FinishDelete(txn, r, obj);
                        finished++;
                    }
                }
                else if (obj.Finalizers().Contains(ForegroundFinalizer) && LiveDependents(txn, obj.Uid()).Count == 0)
                {
                    var finalizers = obj.Finalizers();
                    finalizers.Remove(ForegroundFinalizer);
                    obj.SetFinalizers(finalizers);
                    if (finalizers.Count == 0)
                    {
                        FinishDelete(txn, r, obj);
                        finished++;
                    }
                    else
                    {
                        txn.Put(r.Key, obj);
                    }
                }
            }
        }
        return finished;
    }
}
