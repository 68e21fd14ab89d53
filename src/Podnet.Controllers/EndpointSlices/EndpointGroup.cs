using System.Globalization;
using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>Desired endpoints that share one address type and one port set: one or more slices.</summary>
internal sealed record EndpointGroup(string AddressType, IList<Discoveryv1EndpointPort> Ports, IReadOnlyList<V1Endpoint> Endpoints)
{
    public string PortKey => PortSetKey(Ports);

    /// <summary>An order-insensitive key of a port set; slices are grouped by it.</summary>
    public static string PortSetKey(IEnumerable<Discoveryv1EndpointPort>? ports) =>
        string.Join(";", (ports ?? []).Select(p => string.Create(CultureInfo.InvariantCulture,
            $"{p.Name}/{p.Protocol}/{p.Port}/{p.AppProtocol}")).Order(StringComparer.Ordinal));
}

/// <summary>What a slice made from a group carries besides its endpoints.</summary>
internal sealed record SliceTemplate(string Namespace, string GenerateName, IDictionary<string, string> Labels, V1OwnerReference Owner);
