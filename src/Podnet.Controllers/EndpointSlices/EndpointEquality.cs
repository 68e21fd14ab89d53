using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>Identity and equality of endpoints, so that an unchanged endpoint causes no write.</summary>
internal static class EndpointEquality
{
    /// <summary>An endpoint is the same endpoint while its target and addresses stay the same.</summary>
    public static string Key(V1Endpoint endpoint) =>
        $"{endpoint.TargetRef?.NamespaceProperty}/{endpoint.TargetRef?.Name}|{string.Join(",", endpoint.Addresses ?? [])}";

    public static bool Equal(V1Endpoint a, V1Endpoint b) =>
        (a.Addresses ?? []).SequenceEqual(b.Addresses ?? [])
        && a.Conditions?.Ready == b.Conditions?.Ready
        && a.Conditions?.Serving == b.Conditions?.Serving
        && a.Conditions?.Terminating == b.Conditions?.Terminating
        && a.Hostname == b.Hostname
        && a.NodeName == b.NodeName
        && a.Zone == b.Zone
        && (a.Hints?.ForZones ?? []).Select(z => z.Name).SequenceEqual((b.Hints?.ForZones ?? []).Select(z => z.Name))
        && (a.Hints?.ForNodes ?? []).Select(n => n.Name).SequenceEqual((b.Hints?.ForNodes ?? []).Select(n => n.Name))
        && a.TargetRef?.Kind == b.TargetRef?.Kind
        && a.TargetRef?.Name == b.TargetRef?.Name
        && a.TargetRef?.NamespaceProperty == b.TargetRef?.NamespaceProperty
        && a.TargetRef?.Uid == b.TargetRef?.Uid;

    public static bool LabelsEqual(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        a ??= new Dictionary<string, string>();
        b ??= new Dictionary<string, string>();
        return a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var v) && v == pair.Value);
    }
}
