namespace Podnet.Proxy;

/// <summary>
/// What a Service's healthCheckNodePort answers, as kube-proxy (pkg/proxy/healthcheck): 200 when
/// this node has a ready endpoint of the Service and the proxy is healthy, else 503, with the same
/// JSON body, tab-indented, without a final newline.
/// </summary>
public static class HealthCheckBody
{
    public static (int Status, string Body) Answer(string ns, string name, int localEndpoints, bool proxyHealthy) =>
        (localEndpoints > 0 && proxyHealthy ? 200 : 503,
            "{\n\t\"service\": {\n\t\t\"namespace\": " + Quote(ns) + ",\n\t\t\"name\": " + Quote(name) + "\n\t},\n"
            + "\t\"localEndpoints\": " + localEndpoints.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\n"
            + "\t\"serviceProxyHealthy\": " + (proxyHealthy ? "true" : "false") + "\n}");

    // Namespaces and names are DNS labels: nothing in them needs escaping.
    private static string Quote(string text) => "\"" + text + "\"";
}
