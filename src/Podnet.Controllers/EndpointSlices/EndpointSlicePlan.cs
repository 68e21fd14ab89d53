using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// What to write to make one Service's (or one Endpoints object's) slices right. Creates carry
/// generateName; updates carry the existing slice's name and resourceVersion.
/// </summary>
public sealed record EndpointSlicePlan(
    IReadOnlyList<V1EndpointSlice> Create,
    IReadOnlyList<V1EndpointSlice> Update,
    IReadOnlyList<V1EndpointSlice> Delete)
{
    public bool IsEmpty => Create.Count == 0 && Update.Count == 0 && Delete.Count == 0;
}
