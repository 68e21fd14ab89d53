using System.Globalization;
using System.Net;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Runtime;

/// <summary>
/// The environment variables a pod gets for Services, as the kubelet makes them (Docker-links
/// style): for a Service "redis-primary" at 10.96.0.11:6379/TCP,
/// <c>REDIS_PRIMARY_SERVICE_HOST=10.96.0.11</c>, <c>REDIS_PRIMARY_SERVICE_PORT=6379</c>,
/// <c>REDIS_PRIMARY_SERVICE_PORT_&lt;NAME&gt;</c> per named port,
/// <c>REDIS_PRIMARY_PORT=tcp://10.96.0.11:6379</c>, and per port
/// <c>REDIS_PRIMARY_PORT_6379_TCP{,_PROTO,_PORT,_ADDR}</c>.
/// </summary>
/// <remarks>
/// Only Services with a cluster IP count (not headless, not ExternalName). The pod's own
/// namespace's Services are used, plus the `kubernetes` Service of the default namespace;
/// when names collide, the pod's namespace wins. Variables are sorted by Service name, so
/// the result is stable.
/// </remarks>
public static class ServiceEnvironment
{
    public static IReadOnlyList<KeyValuePair<string, string>> Build(string podNamespace, IEnumerable<ServiceInfo> services)
    {
        var chosen = new SortedDictionary<string, ServiceInfo>(StringComparer.Ordinal);
        foreach (var service in services.Where(s => s.HasClusterIP && s.Ports.Count > 0))
        {
            if (service.Namespace == podNamespace)
            {
                chosen[service.Name] = service;
            }
            else if (service.Namespace == "default" && service.Name == "kubernetes")
            {
                chosen.TryAdd(service.Name, service);
            }
        }
        var variables = new List<KeyValuePair<string, string>>();
        foreach (var service in chosen.Values)
        {
            AddService(variables, service);
        }
        return variables;
    }

    private static void AddService(List<KeyValuePair<string, string>> variables, ServiceInfo service)
    {
        var prefix = Name(service.Name);
        var ip = service.ClusterIPs[0];
        var first = service.Ports[0];
        variables.Add(new($"{prefix}_SERVICE_HOST", ip.ToString()));
        variables.Add(new($"{prefix}_SERVICE_PORT", Number(first.Port)));
        foreach (var port in service.Ports.Where(p => !string.IsNullOrEmpty(p.Name)))
        {
            variables.Add(new($"{prefix}_SERVICE_PORT_{Name(port.Name!)}", Number(port.Port)));
        }
        variables.Add(new($"{prefix}_PORT", Url(first, ip)));
        foreach (var port in service.Ports)
        {
            var protocol = port.Protocol.ToUpperInvariant();
            var key = $"{prefix}_PORT_{Number(port.Port)}_{protocol}";
            variables.Add(new(key, Url(port, ip)));
            variables.Add(new($"{key}_PROTO", port.Protocol.ToLowerInvariant()));
            variables.Add(new($"{key}_PORT", Number(port.Port)));
            variables.Add(new($"{key}_ADDR", ip.ToString()));
        }
    }

    private static string Url(ServicePortInfo port, IPAddress ip)
    {
        var host = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        return $"{port.Protocol.ToLowerInvariant()}://{host}:{Number(port.Port)}";
    }

    private static string Name(string name) => name.ToUpperInvariant().Replace('-', '_');

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
