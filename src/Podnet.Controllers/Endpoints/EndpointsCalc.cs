using System.Globalization;
using System.Net;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.EndpointSlices;

namespace Podnet.Controllers.Endpoints;

/// <summary>What the endpoints controller writes for one Service: a new object, a replacement, or nothing.</summary>
public sealed record EndpointsPlan(V1Endpoints? Create, V1Endpoints? Update)
{
    public static readonly EndpointsPlan None = new(null, null);
}

/// <summary>
/// kube-controller-manager's endpoints controller, its compute step: the v1 Endpoints of a
/// Service with a selector, from the pods it selects. Pure; no I/O, no clock.
/// </summary>
/// <remarks>
/// As upstream (pkg/controller/endpoint): a pod counts while it has an address of the Service's
/// primary family, is not finished, and is not terminating (unless the Service publishes
/// not-ready addresses); ready pods (or all, with publishNotReadyAddresses) are addresses, the
/// others notReadyAddresses. Each Service port is resolved on each pod (a named targetPort the
/// pod lacks leaves that port out for that pod), so pods group into subsets by their port sets.
/// A headless Service without ports gets its addresses with no ports. Past
/// <see cref="MaxCapacity"/> addresses the subsets are truncated as upstream (not-ready ones
/// first, each subset keeping its share) and annotated over-capacity: truncated. The labels
/// are the Service's, plus the headless mark. The last-change-trigger-time is the latest of the
/// Service's creation and the selected pods' last change (their Ready condition's transition,
/// else creation): the time of the newest change the written object reflects.
/// </remarks>
public static class EndpointsCalc
{
    public const int MaxCapacity = 1000;
    public const string OverCapacityAnnotation = "endpoints.kubernetes.io/over-capacity";
    public const string LastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";
    public const string HeadlessLabel = "service.kubernetes.io/headless";

    /// <param name="existing">The Service's Endpoints as stored, if any.</param>
    public static EndpointsPlan Calc(V1Service service, IEnumerable<V1Pod> pods, V1Endpoints? existing)
    {
        if (service.Spec?.Selector is not { Count: > 0 })
        {
            return EndpointsPlan.None; // user-managed: the mirroring controller's, not this one's
        }
        var selected = pods
            .Where(p => p.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty)
            .Where(p => Labels.MatchesServiceSelector(service.Spec.Selector, p.Metadata.Labels))
            .ToList();
        var subsets = Subsets(service, selected, out var triggerTime);
        var truncated = Truncate(subsets);
        var labels = DesiredLabels(service);
        if (existing is not null
            && SameSubsets(existing.Subsets, subsets)
            && SameLabels(existing.Metadata.Labels, labels)
            && (existing.Metadata.Annotations?.ContainsKey(OverCapacityAnnotation) == true) == truncated)
        {
            return EndpointsPlan.None;
        }
        var annotations = new Dictionary<string, string>(existing?.Metadata.Annotations ?? new Dictionary<string, string>());
        annotations.Remove(OverCapacityAnnotation);
        if (truncated)
        {
            annotations[OverCapacityAnnotation] = "truncated";
        }
        if (triggerTime is { } time)
        {
            annotations[LastChangeTriggerTimeAnnotation] = time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
        }
        var endpoints = new V1Endpoints
        {
            ApiVersion = "v1",
            Kind = "Endpoints",
            Metadata = new V1ObjectMeta
            {
                Name = service.Metadata.Name,
                NamespaceProperty = service.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations.Count > 0 ? annotations : null,
                ResourceVersion = existing?.Metadata.ResourceVersion,
            },
            Subsets = subsets.Count > 0 ? subsets : null,
        };
        return existing is null ? new EndpointsPlan(endpoints, null) : new EndpointsPlan(null, endpoints);
    }

    public static Dictionary<string, string> DesiredLabels(V1Service service)
    {
        var labels = new Dictionary<string, string>(service.Metadata.Labels ?? new Dictionary<string, string>());
        labels.Remove(HeadlessLabel);
        if (service.Spec?.ClusterIP == "None")
        {
            labels[HeadlessLabel] = "";
        }
        return labels;
    }

    private static List<V1EndpointSubset> Subsets(V1Service service, List<V1Pod> pods, out DateTime? triggerTime)
    {
        triggerTime = service.Metadata.CreationTimestamp;
        var publishNotReady = service.Spec.PublishNotReadyAddresses == true;
        var family = PrimaryFamily(service);
        var headlessWithoutPorts = service.Spec.ClusterIP == "None" && service.Spec.Ports is not { Count: > 0 };
        // Subsets keyed by their port set, as upstream's RepackSubsets.
        var byPorts = new Dictionary<string, (List<Corev1EndpointPort> Ports, List<V1EndpointAddress> Ready, List<V1EndpointAddress> NotReady)>();
        foreach (var pod in pods)
        {
            if (PodState.IsTerminal(pod) || PodState.IsTerminating(pod) && !publishNotReady)
            {
                continue;
            }
            var ip = PodState.Addresses(pod).FirstOrDefault(a => family is null || PodState.AddressType(a.AddressFamily) == family);
            if (ip is null)
            {
                continue;
            }
            if (PodTriggerTime(pod) is { } podTime && (triggerTime is null || podTime > triggerTime))
            {
                triggerTime = podTime;
            }
            var address = Address(service, pod, ip);
            var ports = headlessWithoutPorts ? [] : Ports(service, pod);
            if (!headlessWithoutPorts && ports.Count == 0)
            {
                continue;
            }
            var key = string.Join(",", ports.Select(p => $"{p.Name}/{p.Port}/{p.Protocol}").Order(StringComparer.Ordinal));
            if (!byPorts.TryGetValue(key, out var subset))
            {
                subset = (ports, [], []);
                byPorts[key] = subset;
            }
            (publishNotReady || PodState.IsReady(pod) ? subset.Ready : subset.NotReady).Add(address);
        }
        return byPorts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new V1EndpointSubset
        {
            Addresses = p.Value.Ready.Count > 0 ? Sorted(p.Value.Ready) : null,
            NotReadyAddresses = p.Value.NotReady.Count > 0 ? Sorted(p.Value.NotReady) : null,
            Ports = p.Value.Ports.Count > 0 ? p.Value.Ports.OrderBy(x => x.Name, StringComparer.Ordinal).ToList() : null,
        }).ToList();
    }

    private static List<V1EndpointAddress> Sorted(List<V1EndpointAddress> addresses) =>
        addresses.OrderBy(a => a.Ip, StringComparer.Ordinal).ThenBy(a => a.TargetRef?.Uid, StringComparer.Ordinal).ToList();

    /// <summary>Endpoints hold one family: the Service's first, else its ClusterIP's; a headless Service without either takes any.</summary>
    private static string? PrimaryFamily(V1Service service)
    {
        if (service.Spec.IpFamilies is { Count: > 0 } families)
        {
            return families[0];
        }
        return IPAddress.TryParse(service.Spec.ClusterIP, out var clusterIp) ? PodState.AddressType(clusterIp.AddressFamily) : null;
    }

    private static DateTime? PodTriggerTime(V1Pod pod) =>
        pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastTransitionTime ?? pod.Metadata.CreationTimestamp;

    private static V1EndpointAddress Address(V1Service service, V1Pod pod, IPAddress ip)
    {
        var address = new V1EndpointAddress
        {
            Ip = ip.ToString(),
            NodeName = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
            TargetRef = new V1ObjectReference { Kind = "Pod", NamespaceProperty = pod.Metadata.NamespaceProperty, Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
        };
        if (!string.IsNullOrEmpty(pod.Spec?.Hostname) && pod.Spec.Subdomain == service.Metadata.Name)
        {
            address.Hostname = pod.Spec.Hostname;
        }
        return address;
    }

    private static List<Corev1EndpointPort> Ports(V1Service service, V1Pod pod)
    {
        var result = new List<Corev1EndpointPort>();
        foreach (var servicePort in service.Spec.Ports ?? [])
        {
            var protocol = servicePort.Protocol ?? "TCP";
            if (EndpointBuilder.FindPort(pod, servicePort.TargetPort, servicePort.Port, protocol) is { } number)
            {
                result.Add(new Corev1EndpointPort { Name = string.IsNullOrEmpty(servicePort.Name) ? null : servicePort.Name, Port = number, Protocol = protocol, AppProtocol = servicePort.AppProtocol });
            }
        }
        return result;
    }

    /// <summary>
    /// Upstream's truncateEndpoints: past <see cref="MaxCapacity"/>, the not-ready addresses are
    /// cut to what the ready ones leave, or, when the ready ones alone are too many, the ready
    /// ones to the capacity and every not-ready one dropped; each subset keeps its share (rounded
    /// up), the last one what remains.
    /// </summary>
    public static bool Truncate(List<V1EndpointSubset> subsets)
    {
        var totalReady = subsets.Sum(s => s.Addresses?.Count ?? 0);
        var totalNotReady = subsets.Sum(s => s.NotReadyAddresses?.Count ?? 0);
        if (totalReady + totalNotReady <= MaxCapacity)
        {
            return false;
        }
        var truncateReady = totalReady > MaxCapacity;
        var max = truncateReady ? MaxCapacity : MaxCapacity - totalReady;
        var total = truncateReady ? totalReady : totalNotReady;
        var canBeAdded = max;
        for (var i = 0; i < subsets.Count; i++)
        {
            var subset = subsets[i];
            var inSubset = (truncateReady ? subset.Addresses?.Count : subset.NotReadyAddresses?.Count) ?? 0;
            var toBeAdded = i < subsets.Count - 1 ? (int)Math.Ceiling((double)inSubset / total * max) : canBeAdded;
            toBeAdded = Math.Min(toBeAdded, canBeAdded);
            if (truncateReady)
            {
                subset.Addresses = subset.Addresses?.Take(toBeAdded).ToList();
                subset.NotReadyAddresses = null;
                canBeAdded -= subset.Addresses?.Count ?? 0;
            }
            else
            {
                subset.NotReadyAddresses = subset.NotReadyAddresses?.Take(toBeAdded).ToList();
                canBeAdded -= subset.NotReadyAddresses?.Count ?? 0;
            }
        }
        return true;
    }

    private static bool SameLabels(IDictionary<string, string>? a, Dictionary<string, string> b) =>
        (a?.Count ?? 0) == b.Count && b.All(p => a!.TryGetValue(p.Key, out var v) && v == p.Value);

    private static bool SameSubsets(IList<V1EndpointSubset>? a, List<V1EndpointSubset> b) =>
        Text(a ?? []) == Text(b);

    /// <summary>A subset list as comparable text, order-insensitive within each list, ignoring the targets' resourceVersion.</summary>
    private static string Text(IEnumerable<V1EndpointSubset> subsets) =>
        string.Join(";", subsets.Select(s =>
            string.Join(",", (s.Ports ?? []).Select(p => $"{p.Name}/{p.Port}/{p.Protocol ?? "TCP"}/{p.AppProtocol}").Order(StringComparer.Ordinal))
            + "|" + Addresses(s.Addresses) + "|" + Addresses(s.NotReadyAddresses)).Order(StringComparer.Ordinal));

    private static string Addresses(IList<V1EndpointAddress>? addresses) =>
        string.Join(",", (addresses ?? []).Select(a => $"{a.Ip}/{a.Hostname}/{a.NodeName}/{a.TargetRef?.Kind}/{a.TargetRef?.NamespaceProperty}/{a.TargetRef?.Name}/{a.TargetRef?.Uid}").Order(StringComparer.Ordinal));
}
