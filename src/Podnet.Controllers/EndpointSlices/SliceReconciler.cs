using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// Turns desired endpoint groups and the slices that exist into creates, updates and deletes,
/// preferring the fewest writes as upstream does.
/// </summary>
/// <remarks>
/// Per address type and port set: (1) existing slices keep the endpoints still wanted, updated in
/// place, and drop the rest (a slice left empty is deleted); (2) new endpoints first fill the
/// slices already being updated, fullest first; (3) what remains goes into the fullest unchanged
/// slice that can take all of it, else into new slices. Slices are never rebalanced. Finally a
/// delete paired with a create of the same address type becomes one update of the old slice.
/// </remarks>
internal static class SliceReconciler
{
    public static EndpointSlicePlan Reconcile(
        SliceTemplate template,
        IReadOnlyList<string> addressTypes,
        IReadOnlyList<EndpointGroup> desired,
        IEnumerable<V1EndpointSlice> existing,
        int maxEndpointsPerSlice,
        bool placeholder)
    {
        var creates = new List<V1EndpointSlice>();
        var updates = new List<V1EndpointSlice>();
        var deletes = new List<V1EndpointSlice>();
        var unchanged = new List<V1EndpointSlice>();
        var existingList = existing.ToList();
        var desiredByKey = desired.ToDictionary(g => (g.AddressType, g.PortKey));
        foreach (var slice in existingList)
        {
            if (!addressTypes.Contains(slice.AddressType) || !desiredByKey.ContainsKey((slice.AddressType, EndpointGroup.PortSetKey(slice.Ports))))
            {
                deletes.Add(slice);
            }
        }
        foreach (var group in desired)
        {
            var slices = existingList.Where(s => s.AddressType == group.AddressType && EndpointGroup.PortSetKey(s.Ports) == group.PortKey);
            var result = ReconcileGroup(template, group, slices, maxEndpointsPerSlice);
            creates.AddRange(result.Create);
            updates.AddRange(result.Update);
            deletes.AddRange(result.Delete);
            unchanged.AddRange(result.Unchanged);
        }
        if (placeholder && creates.Count + updates.Count + unchanged.Count == 0)
        {
            var slice = NewSlice(template, addressTypes[0], [], []);
            var keep = deletes.Count == 1 && IsSamePlaceholder(deletes[0], slice);
            if (keep)
            {
                deletes.Clear();
            }
            else
            {
                creates.Add(slice);
            }
        }
        ReuseDeletedForCreates(creates, updates, deletes);
        return new EndpointSlicePlan(creates, updates, deletes);
    }

    private sealed record GroupResult(List<V1EndpointSlice> Create, List<V1EndpointSlice> Update, List<V1EndpointSlice> Delete, List<V1EndpointSlice> Unchanged);

    private static GroupResult ReconcileGroup(SliceTemplate template, EndpointGroup group, IEnumerable<V1EndpointSlice> slices, int max)
    {
        var wanted = new Dictionary<string, V1Endpoint>();
        var order = new List<string>();
        foreach (var endpoint in group.Endpoints)
        {
            var key = EndpointEquality.Key(endpoint);
            if (wanted.TryAdd(key, endpoint))
            {
                order.Add(key);
            }
        }
        var result = new GroupResult([], [], [], []);
        foreach (var slice in slices)
        {
            var kept = new List<V1Endpoint>();
            var changed = !EndpointEquality.LabelsEqual(slice.Metadata?.Labels, template.Labels) || !OwnedBy(slice, template.Owner);
            foreach (var endpoint in slice.Endpoints ?? [])
            {
                if (wanted.Remove(EndpointEquality.Key(endpoint), out var desiredEndpoint))
                {
                    changed |= !EndpointEquality.Equal(endpoint, desiredEndpoint);
                    kept.Add(desiredEndpoint);
                }
                else
                {
                    changed = true;
                }
            }
            if (!changed)
            {
                result.Unchanged.Add(slice);
            }
            else if (kept.Count == 0)
            {
                result.Delete.Add(slice);
            }
            else
            {
                result.Update.Add(Rewrite(template, slice, group.Ports, kept));
            }
        }
        var remaining = new Queue<V1Endpoint>(order.Where(wanted.ContainsKey).Select(k => wanted[k]));
        foreach (var slice in result.Update.OrderByDescending(s => s.Endpoints.Count))
        {
            Fill(slice, remaining, max);
        }
        FillRemaining(template, group, result, remaining, max);
        return result;
    }

    private static void FillRemaining(SliceTemplate template, EndpointGroup group, GroupResult result, Queue<V1Endpoint> remaining, int max)
    {
        while (remaining.Count > 0)
        {
            V1EndpointSlice? target = null;
            if (remaining.Count < max)
            {
                var fit = result.Unchanged
                    .Where(s => (s.Endpoints?.Count ?? 0) + remaining.Count <= max)
                    .OrderByDescending(s => s.Endpoints?.Count ?? 0)
                    .FirstOrDefault();
                if (fit is not null)
                {
                    result.Unchanged.Remove(fit);
                    target = Rewrite(template, fit, group.Ports, [.. fit.Endpoints ?? []]);
                    result.Update.Add(target);
                }
            }
            if (target is null)
            {
                target = NewSlice(template, group.AddressType, group.Ports, []);
                result.Create.Add(target);
            }
            Fill(target, remaining, max);
        }
    }

    private static void Fill(V1EndpointSlice slice, Queue<V1Endpoint> remaining, int max)
    {
        while (slice.Endpoints.Count < max && remaining.Count > 0)
        {
            slice.Endpoints.Add(remaining.Dequeue());
        }
    }

    private static void ReuseDeletedForCreates(List<V1EndpointSlice> creates, List<V1EndpointSlice> updates, List<V1EndpointSlice> deletes)
    {
        for (var i = 0; i < deletes.Count && creates.Count > 0;)
        {
            var create = creates.FirstOrDefault(c => c.AddressType == deletes[i].AddressType);
            if (create is null)
            {
                i++;
                continue;
            }
            creates.Remove(create);
            create.Metadata.Name = deletes[i].Metadata.Name;
            create.Metadata.ResourceVersion = deletes[i].Metadata.ResourceVersion;
            create.Metadata.Uid = deletes[i].Metadata.Uid;
            updates.Add(create);
            deletes.RemoveAt(i);
        }
    }

    public static V1EndpointSlice NewSlice(SliceTemplate template, string addressType, IList<Discoveryv1EndpointPort> ports, List<V1Endpoint> endpoints) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            GenerateName = template.GenerateName,
            NamespaceProperty = template.Namespace,
            Labels = new Dictionary<string, string>(template.Labels),
            OwnerReferences = [template.Owner],
        },
        AddressType = addressType,
        Ports = [.. ports],
        Endpoints = endpoints,
    };

    private static V1EndpointSlice Rewrite(SliceTemplate template, V1EndpointSlice existing, IList<Discoveryv1EndpointPort> ports, List<V1Endpoint> endpoints)
    {
        var slice = NewSlice(template, existing.AddressType, ports, endpoints);
        slice.Metadata.Name = existing.Metadata.Name;
        slice.Metadata.GenerateName = existing.Metadata.GenerateName;
        slice.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
        slice.Metadata.Uid = existing.Metadata.Uid;
        slice.Metadata.Annotations = existing.Metadata.Annotations;
        return slice;
    }

    private static bool OwnedBy(V1EndpointSlice slice, V1OwnerReference owner) =>
        slice.Metadata?.OwnerReferences?.Any(o => o.Uid == owner.Uid && o.Kind == owner.Kind && o.Name == owner.Name) == true;

    private static bool IsSamePlaceholder(V1EndpointSlice existing, V1EndpointSlice placeholder) =>
        existing.AddressType == placeholder.AddressType
        && (existing.Endpoints?.Count ?? 0) == 0
        && (existing.Ports?.Count ?? 0) == 0
        && EndpointEquality.LabelsEqual(existing.Metadata?.Labels, placeholder.Metadata.Labels)
        && OwnedBy(existing, placeholder.Metadata.OwnerReferences[0]);
}
