using k8s.Models;
using Podnet.Controllers.EndpointSlices;

namespace Podnet.Controllers.Tests.EndpointSlices;

/// <summary>Applies plans to an in-memory list the way the API server would (names for generateName).</summary>
internal sealed class SliceStore
{
    private int _next;

    public List<V1EndpointSlice> Slices { get; } = [];

    public void Apply(EndpointSlicePlan plan)
    {
        foreach (var slice in plan.Delete)
        {
            Assert.Equal(1, Slices.RemoveAll(s => s.Metadata.Name == slice.Metadata.Name));
        }
        foreach (var slice in plan.Update)
        {
            Assert.Equal(1, Slices.RemoveAll(s => s.Metadata.Name == slice.Metadata.Name));
            Slices.Add(slice);
        }
        foreach (var slice in plan.Create)
        {
            Assert.Null(slice.Metadata.Name);
            slice.Metadata.Name = slice.Metadata.GenerateName + (_next++).ToString("D5", System.Globalization.CultureInfo.InvariantCulture);
            Slices.Add(slice);
        }
    }

    public int EndpointCount => Slices.Sum(s => s.Endpoints?.Count ?? 0);
}
