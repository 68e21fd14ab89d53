using System.Net;

namespace Podnet.Core.Plans;

/// <summary>A route a planner wants: <see cref="Destination"/> via <see cref="Gateway"/>.</summary>
public sealed record DesiredRoute(IPNetwork Destination, IPAddress Gateway);
