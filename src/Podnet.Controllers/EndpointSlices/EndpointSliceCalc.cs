using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// The EndpointSlice controller's compute step: from a Service with a selector, the pods, and
/// the slices that exist, the writes that make the slices right. Pure; no I/O.
/// </summary>
public static class EndpointSliceCalc
{
    /// <param name="service">A Service; without a selector it gets no managed slices (all are deleted).</param>
    /// <param name="pods">Pods of any namespace; those the selector picks in the Service's namespace count.</param>
    /// <param name="existing">Slices labelled with the Service's name; those another manager owns are ignored.</param>
    /// <param name="nodes">Nodes by name, for the zone; may be null.</param>
    public static EndpointSlicePlan Calc(
        V1Service service,
        IEnumerable<V1Pod> pods,
        IEnumerable<V1EndpointSlice> existing,
        IReadOnlyDictionary<string, V1Node>? nodes = null,
        int maxEndpointsPerSlice = EndpointSliceLabels.DefaultMaxEndpointsPerSlice)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEndpointsPerSlice, 1);
        var ours = existing.Where(s => IsManagedSliceOf(s, service.Metadata.Name, EndpointSliceLabels.ControllerName)).ToList();
        if (service.Spec?.Selector is not { Count: > 0 } || service.Spec.Type == "ExternalName")
        {
            return new EndpointSlicePlan([], [], ours);
        }
        var template = new SliceTemplate(service.Metadata.NamespaceProperty, service.Metadata.Name + "-", DesiredLabels(service), OwnerReference(service));
        var groups = EndpointBuilder.Build(service, pods, nodes);
        var addressTypes = EndpointBuilder.AddressTypes(service);
        return SliceReconciler.Reconcile(template, addressTypes, groups, ours, maxEndpointsPerSlice, placeholder: true);
    }

    public static bool IsManagedSliceOf(V1EndpointSlice slice, string serviceName, string manager) =>
        slice.Metadata?.Labels is { } labels
        && labels.TryGetValue(EndpointSliceLabels.ServiceName, out var name) && name == serviceName
        && labels.TryGetValue(EndpointSliceLabels.ManagedBy, out var managedBy) && managedBy == manager;

    /// <summary>The Service's own labels, then the controller's (which win), plus the headless mark.</summary>
    public static Dictionary<string, string> DesiredLabels(V1Service service)
    {
        var labels = new Dictionary<string, string>();
        foreach (var (key, value) in service.Metadata.Labels ?? new Dictionary<string, string>())
        {
            if (key is not (EndpointSliceLabels.ServiceName or EndpointSliceLabels.ManagedBy or EndpointSliceLabels.Headless))
            {
                labels[key] = value;
            }
        }
        labels[EndpointSliceLabels.ServiceName] = service.Metadata.Name;
        labels[EndpointSliceLabels.ManagedBy] = EndpointSliceLabels.ControllerName;
        if (service.Spec?.ClusterIP == "None")
        {
            labels[EndpointSliceLabels.Headless] = "";
        }
        return labels;
    }

    public static V1OwnerReference OwnerReference(V1Service service) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Name = service.Metadata.Name,
        Uid = service.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };
}
