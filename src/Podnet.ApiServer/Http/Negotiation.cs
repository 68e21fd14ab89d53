namespace Podnet.ApiServer.Http;

/// <summary>How a response is written: its encoding, and whether the client asked for a Table or for metadata only (PartialObjectMetadata).</summary>
internal readonly record struct ResponseFormat(bool Protobuf, bool Table, bool Metadata = false);

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
/// `as=PartialObjectMetadata` / `as=PartialObjectMetadataList` (g=meta.k8s.io, v=v1 or v1beta1),
/// which client-go's metadata client sends (kube-controller-manager's garbage collector and
/// namespace controller watch everything that way), is honoured in JSON for the shape that fits
/// the answer (the List one for lists); its protobuf clause is passed over, and client-go always
/// offers the JSON one after it.
/// Errors are negotiated the same way but never fail: a Status falls back to JSON, as
/// upstream's ErrorNegotiated.
/// </remarks>
internal static class Negotiation
{
    public static readonly ResponseFormat Json = new(false, false);

    public const string NotAcceptableMessage = "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf";

    /// <summary>
    /// The format for an object, or null when no media type of the Accept header can be written.
    /// <paramref name="metadataAs"/>: the PartialObjectMetadata kind that fits the answer
    /// (PartialObjectMetadata, PartialObjectMetadataList, or either for a watch: "*"), null when
    /// the answer has no object metadata to give.
    /// </summary>
    public static ResponseFormat? Choose(string? accept, bool protobufPossible, bool tablePossible = true, string? metadataAs = null)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return Json;
        }
        foreach (var (type, transform) in Ranked(accept))
        {
            var table = transform == "Table";
            var metadata = transform is "PartialObjectMetadata" or "PartialObjectMetadataList";
            if (metadata && !(metadataAs == "*" ? true : metadataAs == transform))
            {
                continue;
            }
            switch (type)
            {
                case "application/json" or "application/yaml" or "*/*" or "application/*":
                    if (!table || tablePossible)
                    {
                        return new ResponseFormat(false, table, metadata);
                    }
                    break;
                case Protobuf.MediaType when protobufPossible && transform is null:
                    return new ResponseFormat(true, false);
            }
        }
        return null;
    }

    /// <summary>The media types with their transform (as=…, null for none), best first; those with q=0 are left out.</summary>
    private static IEnumerable<(string Type, string? Transform)> Ranked(string accept)
    {
        var clauses = new List<(string Type, string? Transform, double Q, int Order)>();
        var order = 0;
        foreach (var clause in accept.Split(','))
        {
            var parts = clause.Split(';');
            var type = parts[0].Trim().ToLowerInvariant();
            double q = 1;
            string? transform = null, group = null, version = null;
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
                        transform = value;
                        break;
                    case "g":
                        group = value;
                        break;
                    case "v":
                        version = value;
                        break;
                }
            }
            // Transforms served: Table, and the metadata-only kinds of meta.k8s.io (v1, v1beta1).
            // Any other (APIGroupDiscoveryList… is answered elsewhere) makes the clause unusable.
            var usable = transform switch
            {
                null or "Table" => true,
                "PartialObjectMetadata" or "PartialObjectMetadataList" => group == "meta.k8s.io" && version is "v1" or "v1beta1",
                _ => false,
            };
            if (q > 0 && type.Length > 0 && usable)
            {
                clauses.Add((type, transform, q, order++));
            }
        }
        return clauses.OrderByDescending(c => c.Q).ThenBy(c => c.Order).Select(c => (c.Type, c.Transform));
    }
}
