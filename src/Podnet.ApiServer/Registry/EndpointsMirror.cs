using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

/// <summary>
/// Endpoints of a Service without a selector, mirrored into EndpointSlices as upstream's
/// endpointslice-mirroring controller does: one slice per subset and address family, named
/// <c>SERVICE-mirror-FAMILY-N</c>, labelled with the service name and the mirroring manager,
/// owned by the Endpoints. Services with a selector are left to the EndpointSlice controller;
/// Endpoints labelled <c>endpointslice.kubernetes.io/skip-mirror=true</c> are not mirrored.
/// Runs inside the write that changed the Service or the Endpoints.
/// </summary>
internal static class EndpointsMirror
{
    public const string ManagedBy = "endpointslicemirroring-controller.k8s.io";

    public static void Sync(ResourceService service, StoreTransaction txn, string ns, string name)
    {
        var svc = txn.Get(ResourceCatalog.Services.Key, ns, name)?.Parse();
        var endpoints = txn.Get(ResourceCatalog.Endpoints.Key, ns, name)?.Parse();
        var mirror = svc is not null && endpoints is not null
            && svc["spec"]?["selector"] is not JsonObject { Count: > 0 }
            && (string?)endpoints["metadata"]?["labels"]?["endpointslice.kubernetes.io/skip-mirror"] != "true";
        var desired = mirror ? Desired(ns, name, endpoints!) : [];
        var existing = txn.List(ResourceCatalog.EndpointSlices.Key, ns)
            .Select(s => s.Parse())
            .Where(s => (string?)s["metadata"]?["labels"]?["endpointslice.kubernetes.io/managed-by"] == ManagedBy
                && (string?)s["metadata"]?["labels"]?["kubernetes.io/service-name"] == name)
            .ToDictionary(s => s.Name());
        foreach (var slice in desired)
        {
            if (!existing.Remove(slice.Name(), out var current))
            {
                service.Create(txn, ResourceCatalog.EndpointSlices, ns, slice);
            }
            else if (!JsonNode.DeepEquals(current["endpoints"], slice["endpoints"]) || !JsonNode.DeepEquals(current["ports"], slice["ports"]))
            {
                service.Update(txn, ResourceCatalog.EndpointSlices, ns, slice.Name(), ResourceService.Internal, c =>
                {
                    c["endpoints"] = slice["endpoints"]!.DeepClone();
                    c["ports"] = slice["ports"]!.DeepClone();
                    return c;
                }, null);
            }
        }
        foreach (var stale in existing.Values)
        {
            txn.Delete(ResourceCatalog.EndpointSlices.Key, stale);
        }
    }

    private static List<JsonObject> Desired(string ns, string name, JsonObject endpoints)
    {
        var slices = new List<JsonObject>();
        var subsets = endpoints["subsets"] as JsonArray ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i] as JsonObject ?? [];
            var all = (subset["addresses"] as JsonArray ?? []).Select(a => (a, true))
                .Concat((subset["notReadyAddresses"] as JsonArray ?? []).Select(a => (a, false)))
                .Where(x => IPAddress.TryParse((string?)x.a?["ip"], out _))
                .ToList();
            foreach (var family in new[] { "IPv4", "IPv6" })
            {
                var members = all.Where(x => IPAddress.Parse((string)x.a!["ip"]!).AddressFamily == (family == "IPv4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6)).ToList();
                if (members.Count == 0)
                {
                    continue;
                }
                slices.Add(new JsonObject
                {
                    ["metadata"] = new JsonObject
                    {
                        ["name"] = $"{name}-mirror-{family.ToLowerInvariant()}-{i}",
                        ["namespace"] = ns,
                        ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = name, ["endpointslice.kubernetes.io/managed-by"] = ManagedBy },
                        ["ownerReferences"] = new JsonArray(new JsonObject
                        {
                            ["apiVersion"] = "v1", ["kind"] = "Endpoints", ["name"] = name, ["uid"] = endpoints.Uid(), ["controller"] = true, ["blockOwnerDeletion"] = true,
                        }),
                    },
                    ["addressType"] = family,
                    ["endpoints"] = new JsonArray(members.Select(m => (JsonNode)Endpoint(m.a!, m.Item2)).ToArray()),
                    ["ports"] = new JsonArray((subset["ports"] as JsonArray ?? []).Select(p => (JsonNode)new JsonObject
                    {
                        ["name"] = p?["name"]?.DeepClone() ?? "",
                        ["port"] = p?["port"]?.DeepClone(),
                        ["protocol"] = p?["protocol"]?.DeepClone() ?? "TCP",
                    }).ToArray()),
                });
            }
        }
        return slices;
    }

    private static JsonObject Endpoint(JsonNode address, bool ready)
    {
        var endpoint = new JsonObject
        {
            ["addresses"] = new JsonArray((string)address["ip"]!),
            ["conditions"] = new JsonObject { ["ready"] = ready },
        };
        if ((string?)address["hostname"] is { Length: > 0 } hostname)
        {
            endpoint["hostname"] = hostname;
        }
        if ((string?)address["nodeName"] is { Length: > 0 } node)
        {
            endpoint["nodeName"] = node;
        }
        if (address["targetRef"] is JsonObject target)
        {
            endpoint["targetRef"] = target.DeepClone();
        }
        return endpoint;
    }
}
