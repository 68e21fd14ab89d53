namespace Podnet.ApiServer.Http;

/// <summary>How a response is written: its encoding, and whether the client asked for a Table.</summary>
internal readonly record struct ResponseFormat(bool Protobuf, bool Table);

/// <summary>
/// Content negotiation of responses as kube-apiserver's NegotiateOutputMediaType: the Accept
/// header's media types in order of their q (ties in the order given), the first one the server
/// can write wins; none is a 406.
/// </summary>
/// <remarks>
/// Written: application/json (also for application/yaml, */* and application/*, as before), and
/// application/vnd.kubernetes.protobuf for what has a protobuf message. `as=Table` (with
/// g=meta.k8s.io) is honoured in JSON only: upstream's AllowsMediaTypeTransform serves Table as
/// JSON or YAML, so a protobuf Table clause is passed over for the next one, as there.
/// Errors are negotiated the same way but never fail: a Status falls back to JSON, as
/// upstream's ErrorNegotiated.
/// </remarks>
internal static class Negotiation
{
    public static readonly ResponseFormat Json = new(false, false);

    public const string NotAcceptableMessage = "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf";

    /// <summary>The format for an object, or null when no media type of the Accept header can be written.</summary>
    public static ResponseFormat? Choose(string? accept, bool protobufPossible, bool tablePossible = true)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return Json;
        }
        foreach (var (type, table) in Ranked(accept))
        {
            switch (type)
            {
                case "application/json" or "application/yaml" or "*/*" or "application/*":
                    if (!table || tablePossible)
                    {
                        return new ResponseFormat(false, table);
                    }
                    break;
                case Protobuf.MediaType when protobufPossible && !table:
                    return new ResponseFormat(true, false);
            }
        }
        return null;
    }

    /// <summary>The media types, best first; those with q=0 are left out.</summary>
    private static IEnumerable<(string Type, bool Table)> Ranked(string accept)
    {
        var clauses = new List<(string Type, bool Table, double Q, int Order)>();
        var order = 0;
        foreach (var clause in accept.Split(','))
        {
            var parts = clause.Split(';');
            var type = parts[0].Trim().ToLowerInvariant();
            double q = 1;
            bool asTable = false, otherTransform = false;
            foreach (var p in parts.Skip(1))
            {
                var eq = p.IndexOf('=', StringComparison.Ordinal);
                var (name, value) = eq < 0 ? (p.Trim(), "") : (p[..eq].Trim(), p[(eq + 1)..].Trim().Trim('"'));
                switch (name)
                {
                    case "q":
                        q = double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
                        break;
                    case "as":
                        asTable = value == "Table";
                        otherTransform = value != "Table";
                        break;
                }
            }
            // Another transform (PartialObjectMetadata, APIGroupDiscoveryList...) is not served here.
            if (q > 0 && type.Length > 0 && !otherTransform)
            {
                clauses.Add((type, asTable, q, order++));
            }
        }
        return clauses.OrderByDescending(c => c.Q).ThenBy(c => c.Order).Select(c => (c.Type, c.Table));
    }
}
