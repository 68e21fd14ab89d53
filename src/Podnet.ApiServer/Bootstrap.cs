using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.Core.Net;

namespace Podnet.ApiServer;

/// <summary>
/// The objects every cluster has: the four system namespaces, the `kubernetes` Service at the
/// first address of the service range with its Endpoints and EndpointSlice pointing at this
/// server, and a `default` ServiceAccount in each namespace. Kept true at every start (the
/// port or the address may have changed) and, for service accounts, at every sweep.
/// </summary>
/// <remarks>
/// The `kubernetes` Service has no selector, so its slice would otherwise come from the
/// controllers' Endpoints mirroring, and the server can run without controllers
/// (<c>--controllers none</c>, or before the child has started). As kube-apiserver's endpoint
/// reconciler (pkg/controlplane/reconcilers, EndpointsAdapter), the server writes both itself:
/// the Endpoints labelled <c>endpointslice.kubernetes.io/skip-mirror: "true"</c>, so that the
/// mirroring leaves it alone, and one slice named `kubernetes` whose only label is
/// <c>kubernetes.io/service-name: kubernetes</c> (no managed-by, as upstream: neither
/// EndpointSlice controller counts it as its own, so neither updates nor deletes it).
/// </remarks>
internal static class Bootstrap
{
    public static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    private const string SkipMirror = "endpointslice.kubernetes.io/skip-mirror";

    public static Task EnsureAsync(ResourceService service, ApiServerOptions options, IPAddress address, int port, string caPem) =>
        service.Store.WriteAsync(txn =>
        {
            foreach (var ns in SystemNamespaces)
            {
                if (txn.Get(ResourceCatalog.Namespaces.Key, "", ns) is null)
                {
                    service.Create(txn, ResourceCatalog.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
                }
            }
            EnsureServiceCidr(service, txn, options);
            var clusterIp = IpMath.Add(options.ServiceCidrs[0].BaseAddress, 1).ToString();
            var labels = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" };
            var svc = new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["namespace"] = "default", ["labels"] = labels.DeepClone() },
                ["spec"] = new JsonObject
                {
                    ["clusterIP"] = clusterIp,
                    ["clusterIPs"] = new JsonArray(clusterIp),
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = port }),
                    ["sessionAffinity"] = "None",
                    ["type"] = "ClusterIP",
                },
            };
            Upsert(service, txn, ResourceCatalog.Services, svc, (current, desired) => current["spec"]!["ports"] = desired["spec"]!["ports"]!.DeepClone());
            var family = address.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
            var slice = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = "kubernetes",
                    ["namespace"] = "default",
                    ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = "kubernetes" },
                },
                ["addressType"] = family,
                ["endpoints"] = new JsonArray(new JsonObject { ["addresses"] = new JsonArray(address.ToString()), ["conditions"] = new JsonObject { ["ready"] = true } }),
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
            };
            Upsert(service, txn, ResourceCatalog.EndpointSlices, slice, (current, desired) =>
            {
                // The labels too, as upstream: a state written before had a managed-by label.
                current["metadata"]!["labels"] = desired["metadata"]!["labels"]!.DeepClone();
                current["addressType"] = desired["addressType"]!.DeepClone();
                current["endpoints"] = desired["endpoints"]!.DeepClone();
                current["ports"] = desired["ports"]!.DeepClone();
            });
            var endpoints = new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["namespace"] = "default", ["labels"] = new JsonObject { [SkipMirror] = "true" } },
                ["subsets"] = new JsonArray(new JsonObject
                {
                    ["addresses"] = new JsonArray(new JsonObject { ["ip"] = address.ToString() }),
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = port, ["protocol"] = "TCP" }),
                }),
            };
            Upsert(service, txn, ResourceCatalog.Endpoints, endpoints, (current, desired) =>
            {
                current.Meta().Child("labels")[SkipMirror] = "true";
                current["subsets"] = desired["subsets"]!.DeepClone();
            });
            if (options.NamespaceDefaults)
            {
                EnsureNamespaceDefaults(service, txn, caPem);
            }
            service.RecordAllServiceAddresses(txn);
            return 0;
        });

    /// <summary>
    /// The default ServiceCIDR, `kubernetes`, holding the server's service ranges (both families
    /// in a dual-stack lab), as kube-apiserver's default-servicecidr controller writes it; made
    /// again if it was deleted, left alone (as upstream) if it holds other ranges.
    /// </summary>
    private static void EnsureServiceCidr(ResourceService service, Storage.StoreTransaction txn, ApiServerOptions options)
    {
        if (txn.Get(ResourceCatalog.ServiceCidrs.Key, "", Admission.ServiceRanges.DefaultName) is not null)
        {
            return;
        }
        service.Create(txn, ResourceCatalog.ServiceCidrs, null, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = Admission.ServiceRanges.DefaultName },
            ["spec"] = new JsonObject { ["cidrs"] = new JsonArray(options.ServiceCidrs.Select(c => (JsonNode)c.ToString()).ToArray()) },
        });
    }

    /// <summary>
    /// Gives every active namespace its `default` ServiceAccount and the `kube-root-ca.crt`
    /// ConfigMap (the CA pods trust the API with), as kube-controller-manager does.
    /// </summary>
    public static void EnsureNamespaceDefaults(ResourceService service, Storage.StoreTransaction txn, string caPem)
    {
        foreach (var ns in txn.List(ResourceCatalog.Namespaces.Key, null).Where(n => !n.Deleting))
        {
            if (txn.Get(ResourceCatalog.ServiceAccounts.Key, ns.Name, "default") is null)
            {
                service.Create(txn, ResourceCatalog.ServiceAccounts, ns.Name, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
            }
            if (txn.Get(ResourceCatalog.ConfigMaps.Key, ns.Name, "kube-root-ca.crt") is null)
            {
                service.Create(txn, ResourceCatalog.ConfigMaps, ns.Name, new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = "kube-root-ca.crt" },
                    ["data"] = new JsonObject { ["ca.crt"] = caPem },
                });
            }
        }
    }

    private static void Upsert(ResourceService service, Storage.StoreTransaction txn, ResourceInfo r, JsonObject desired, Action<JsonObject, JsonObject> copy)
    {
        if (txn.Get(r.Key, "default", desired.Name()) is null)
        {
            service.Create(txn, r, "default", desired);
            return;
        }
        service.Update(txn, r, "default", desired.Name(), ResourceService.Internal, current =>
        {
            copy(current, desired);
            return current;
        }, null);
    }
}
