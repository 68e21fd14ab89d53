using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

internal static class NetworkPolicyValidation
{
    public static void Validate(JsonObject spec, List<FieldCause> causes)
    {
        foreach (var (direction, peers) in new[] { ("ingress", "from"), ("egress", "to") })
        {
            var rules = spec[direction] as JsonArray ?? [];
            for (var i = 0; i < rules.Count; i++)
            {
                var at = $"spec.{direction}[{i}]";
                var ports = rules[i]?["ports"] as JsonArray ?? [];
                for (var p = 0; p < ports.Count; p++)
                {
                    Port(ports[p] as JsonObject ?? [], $"{at}.ports[{p}]", causes);
                }
                var list = rules[i]?[peers] as JsonArray ?? [];
                for (var p = 0; p < list.Count; p++)
                {
                    Peer(list[p] as JsonObject ?? [], $"{at}.{peers}[{p}]", causes);
                }
            }
        }
        foreach (var (type, t) in (spec["policyTypes"] as JsonArray ?? []).Select((x, i) => ((string?)x, i)))
        {
            if (type is not ("Ingress" or "Egress"))
            {
                causes.Add(FieldCause.NotSupported($"spec.policyTypes[{t}]", type, ["Ingress", "Egress"]));
            }
        }
    }

    private static void Port(JsonObject port, string at, List<FieldCause> causes)
    {
        KindValidation.Protocol(port["protocol"], $"{at}.protocol", causes);
        var number = ObjectMeta.Long(port["port"]);
        if (port["port"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            if (Names.PortNameError((string)v!) is { } error)
            {
                causes.Add(FieldCause.Invalid($"{at}.port", (string)v!, error));
            }
        }
        else
        {
            KindValidation.Port(port["port"], $"{at}.port", causes, required: false);
        }
        if (port["endPort"] is { } endNode)
        {
            var end = ObjectMeta.Long(endNode);
            if (port["port"] is null)
            {
                causes.Add(FieldCause.Required($"{at}.port", "must specify port when endPort is specified"));
            }
            else if (number is null)
            {
                causes.Add(FieldCause.Invalid($"{at}.endPort", end, "may not be specified when port is non-numeric"));
            }
            else if (end < number)
            {
                causes.Add(FieldCause.Invalid($"{at}.endPort", end, "must be greater than or equal to `port`"));
            }
        }
    }

    private static void Peer(JsonObject peer, string at, List<FieldCause> causes)
    {
        var selectors = (peer["podSelector"] is not null ? 1 : 0) + (peer["namespaceSelector"] is not null ? 1 : 0);
        if (peer["ipBlock"] is not JsonObject block)
        {
            if (selectors == 0)
            {
                causes.Add(FieldCause.Required(at, "must specify a peer"));
            }
            return;
        }
        if (selectors > 0)
        {
            causes.Add(FieldCause.Forbidden(at, "may not specify more than 1 peer type"));
        }
        var cidrText = (string?)block["cidr"];
        if (string.IsNullOrEmpty(cidrText))
        {
            causes.Add(FieldCause.Required($"{at}.ipBlock.cidr"));
            return;
        }
        if (!IPNetwork.TryParse(cidrText, out var cidr))
        {
            causes.Add(FieldCause.Invalid($"{at}.ipBlock.cidr", cidrText, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
            return;
        }
        var excepts = block["except"] as JsonArray ?? [];
        for (var e = 0; e < excepts.Count; e++)
        {
            var text = (string?)excepts[e] ?? "";
            var field = $"{at}.ipBlock.except[{e}]";
            if (!IPNetwork.TryParse(text, out var except))
            {
                causes.Add(FieldCause.Invalid(field, text, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
            }
            else if (except.BaseAddress.AddressFamily != cidr.BaseAddress.AddressFamily || except.PrefixLength <= cidr.PrefixLength || !cidr.Contains(except.BaseAddress))
            {
                causes.Add(FieldCause.Invalid(field, text, "must be a strict subset of `cidr`"));
            }
        }
    }
}
