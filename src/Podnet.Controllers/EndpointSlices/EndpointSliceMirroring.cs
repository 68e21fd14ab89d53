using System.Net;
using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// The EndpointSlice mirroring controller's compute step: a selectorless Service's Endpoints
/// object, copied into slices managed by endpointslicemirroring-controller.k8s.io and owned by
/// the Endpoints object. Pure; no I/O.
/// </summary>
/// <remarks>
/// Mirrored only while the Service exists, has no selector, and the Endpoints lacks the
/// skip-mirror label. Addresses are ready, notReadyAddresses not ready; an address that does not
/// parse as an IP is skipped. Subsets with the same ports share slices. At most
/// <see cref="MaxEndpointsPerSubset"/> endpoints of each subset are mirrored, as upstream.
/// </remarks>
public static class EndpointSliceMirroring
{
    public const int MaxEndpointsPerSubset = 1000;

    public static EndpointSlicePlan Calc(
        V1Endpoints endpoints,
        V1Service? service,
        IEnumerable<V1EndpointSlice> existing,
        int maxEndpointsPerSlice = EndpointSliceLabels.DefaultMaxEndpointsPerSlice)
    {
        var name = endpoints.Metadata.Name;
        var ours = existing.Where(s => EndpointSliceCalc.IsManagedSliceOf(s, name, EndpointSliceLabels.MirroringControllerName)).ToList();
        if (!ShouldMirror(endpoints, service))
        {
            return new EndpointSlicePlan([], [], ours);
        }
        var template = new SliceTemplate(endpoints.Metadata.NamespaceProperty, name + "-", DesiredLabels(endpoints), OwnerReference(endpoints));
        var groups = BuildGroups(endpoints);
        return SliceReconciler.Reconcile(template, ["IPv4", "IPv6"], groups, ours, maxEndpointsPerSlice, placeholder: false);
    }

    public static bool ShouldMirror(V1Endpoints endpoints, V1Service? service) =>
        service is not null
        && service.Spec?.Selector is not { Count: > 0 }
        && !(endpoints.Metadata.Labels is { } labels
             && labels.TryGetValue(EndpointSliceLabels.SkipMirror, out var skip) && skip == "true");

    private static List<EndpointGroup> BuildGroups(V1Endpoints endpoints)
    {
        var groups = new Dictionary<(string, string), (IList<Discoveryv1EndpointPort> Ports, List<V1Endpoint> Endpoints)>();
        foreach (var subset in endpoints.Subsets ?? [])
        {
            var ports = (subset.Ports ?? []).Select(p => new Discoveryv1EndpointPort
            {
                Name = p.Name ?? "",
                Port = p.Port,
                Protocol = p.Protocol ?? "TCP",
                AppProtocol = p.AppProtocol,
            }).ToList();
            var portKey = EndpointGroup.PortSetKey(ports);
            var addresses = (subset.Addresses ?? []).Select(a => (a, true))
                .Concat((subset.NotReadyAddresses ?? []).Select(a => (a, false)))
                .Take(MaxEndpointsPerSubset);
            foreach (var (address, ready) in addresses)
            {
                if (!IPAddress.TryParse(address.Ip, out var ip))
                {
                    continue;
                }
                var addressType = PodState.AddressType(ip.AddressFamily);
                if (!groups.TryGetValue((addressType, portKey), out var group))
                {
                    group = (ports, []);
                    groups[(addressType, portKey)] = group;
                }
                group.Endpoints.Add(new V1Endpoint
                {
                    Addresses = [ip.ToString()],
                    Conditions = new V1EndpointConditions { Ready = ready },
                    Hostname = string.IsNullOrEmpty(address.Hostname) ? null : address.Hostname,
                    NodeName = string.IsNullOrEmpty(address.NodeName) ? null : address.NodeName,
                    TargetRef = address.TargetRef,
                });
            }
        }
        return groups.Select(g => new EndpointGroup(g.Key.Item1, g.Value.Ports, g.Value.Endpoints)).ToList();
    }

    private static Dictionary<string, string> DesiredLabels(V1Endpoints endpoints)
    {
        var labels = new Dictionary<string, string>();
        foreach (var (key, value) in endpoints.Metadata.Labels ?? new Dictionary<string, string>())
        {
            if (key is not (EndpointSliceLabels.ServiceName or EndpointSliceLabels.ManagedBy or EndpointSliceLabels.SkipMirror))
            {
                labels[key] = value;
            }
        }
        labels[EndpointSliceLabels.ServiceName] = endpoints.Metadata.Name;
        labels[EndpointSliceLabels.ManagedBy] = EndpointSliceLabels.MirroringControllerName;
        return labels;
    }

    private static V1OwnerReference OwnerReference(V1Endpoints endpoints) => new()
    {
        ApiVersion = "v1",
        Kind = "Endpoints",
        Name = endpoints.Metadata.Name,
        Uid = endpoints.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };
}
