using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tables;

/// <summary>Ingress and IngressClass rows as upstream's printers (printIngress, printIngressClass).</summary>
internal static partial class TablePrinter
{
    private static object?[] Ingress(JsonObject o, string age)
    {
        var spec = o["spec"] as JsonObject ?? [];
        var rules = spec["rules"] as JsonArray ?? [];
        // Up to three hosts; a rule seen after the third host makes it "+ N more..." (N counting rules, as upstream).
        const int max = 3;
        var hosts = new List<string>();
        var more = false;
        foreach (var rule in rules)
        {
            more |= hosts.Count == max;
            if (!more && (string?)rule?["host"] is { Length: > 0 } host)
            {
                hosts.Add(host);
            }
        }
        var hostText = hosts.Count == 0 ? "*" : string.Join(",", hosts) + (more ? $" + {rules.Count - max} more..." : "");
        // Not cut at 16 characters: kube-apiserver prints its Tables wide.
        var address = string.Join(",", (o["status"]?["loadBalancer"]?["ingress"] as JsonArray ?? [])
            .SelectMany(i => new[] { (string?)i?["ip"], (string?)i?["hostname"] }).Where(a => !string.IsNullOrEmpty(a)));
        var ports = spec["tls"] is JsonArray { Count: > 0 } ? "80, 443" : "80";
        return [o.Name(), (string?)spec["ingressClassName"] ?? "<none>", hostText, address, ports, age];
    }

    private static string IngressClassParameters(JsonObject o)
    {
        if (o["spec"]?["parameters"] is not JsonObject parameters)
        {
            return "<none>";
        }
        var kind = (string?)parameters["kind"] ?? "";
        var group = (string?)parameters["apiGroup"];
        return $"{(string.IsNullOrEmpty(group) ? kind : $"{kind}.{group}")}/{(string?)parameters["name"]}";
    }

    /// <summary>An IPAddress's parent as upstream prints it: "services/default/web" (with the group when it has one).</summary>
    private static string IPAddressParent(JsonObject o)
    {
        if (o["spec"]?["parentRef"] is not JsonObject parent)
        {
            return "<none>";
        }
        var group = (string?)parent["group"];
        var resource = string.IsNullOrEmpty(group) ? (string?)parent["resource"] : $"{(string?)parent["resource"]}.{group}";
        var ns = (string?)parent["namespace"];
        return string.IsNullOrEmpty(ns) ? $"{resource}/{(string?)parent["name"]}" : $"{resource}/{ns}/{(string?)parent["name"]}";
    }
}
