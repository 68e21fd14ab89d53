using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Fields;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;

namespace Podnet.ApiServer.Http;

internal sealed partial class ApiHandler
{
    /// <summary>Writes an object or a list, as a Table when the client asked for one.</summary>
    private static Task WriteObjectAsync(HttpContext context, int code, ResourceInfo r, JsonObject body)
    {
        if (r.Custom is { } custom && (string?)body["kind"] != "Scale")
        {
            if (body["items"] is JsonArray items)
            {
                foreach (var item in items.OfType<JsonObject>())
                {
                    custom.Present(r.Version, item);
                }
            }
            else
            {
                custom.Present(r.Version, body);
            }
        }
        if (r == ResourceCatalog.CustomResourceDefinitions && context.Request.Method is "POST" or "PUT" or "PATCH" && (string?)body["kind"] == "CustomResourceDefinition")
        {
            foreach (var text in Validation.CrdValidation.NotEnforced(body))
            {
                var ascii = new string(text.Select(c => c is '"' or '\\' ? '\'' : c is < ' ' or > '~' ? '?' : c).ToArray());
                context.Response.Headers.Append("Warning", $"299 - \"{ascii}\"");
            }
        }
        var format = Negotiation.Choose(context.Request.Headers.Accept.ToString(), Protobuf.CanEncode(body), tablePossible: (string?)body["kind"] != "Scale", metadataAs: PartialMetadata.KindFor(body))
            ?? throw new ApiException(406, "NotAcceptable", Negotiation.NotAcceptableMessage);
        if (format.Metadata)
        {
            return Bodies.WriteAsync(context.Response, code, body["items"] is JsonArray ? PartialMetadata.OfList(body) : PartialMetadata.Of(body));
        }
        if (format.Table)
        {
            var wide = context.Request.Query["includeObject"] == "Object";
            return Bodies.WriteAsync(context.Response, code, TablePrinter.Print(r, body, wide));
        }
        return Bodies.WriteAsync(context.Response, code, body);
    }

    /// <summary>
    /// fieldValidation as kube-apiserver: the fields the kind does not have are dropped from the
    /// body in every mode (as decoding drops them upstream); Strict fails naming all of them,
    /// Warn (the default) answers with a Warning header for each, Ignore says nothing.
    /// </summary>
    private static T CheckFields<T>(HttpContext context, ResourceInfo r, string? sub, T body, bool? patch = null)
        where T : JsonNode
    {
        var mode = (string?)context.Request.Query["fieldValidation"] ?? "Warn";
        if (mode is not ("Strict" or "Warn" or "Ignore"))
        {
            throw ApiException.BadRequest($"fieldValidation: Unsupported value: \"{mode}\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
        }
        var unknown = Validation.UnknownFields.Prune(r, sub, body, patch ?? context.Request.Method == "PATCH");
        if (unknown.Count == 0 || mode == "Ignore")
        {
            return body;
        }
        if (mode == "Strict")
        {
            throw ApiException.BadRequest("strict decoding error: " + string.Join(", ", unknown.Select(f => $"unknown field \"{f}\"")));
        }
        foreach (var text in FitWarnings(unknown))
        {
            context.Response.Headers.Append("Warning", $"299 - \"{text}\"");
        }
        return body;
    }

    /// <summary>
    /// The warnings' texts as kube-apiserver's warning recorder bounds them: once they pass 4 KiB
    /// together, each is cut to 256 characters of its field, and those that still do not fit are
    /// left out, so a body of odd field names cannot make a header that clients refuse (found by
    /// the fuzzer: a 75 KB field name was over HttpClient's 64 KiB of headers).
    /// </summary>
    private static List<string> FitWarnings(IReadOnlyList<string> fields)
    {
        const int MaxTotal = 4096;
        const int Truncated = 256;
        var distinct = fields.Distinct(StringComparer.Ordinal).ToList();
        var texts = distinct.Select(f => $"unknown field {HeaderText(f)}").ToList();
        if (texts.Sum(t => t.Length) <= MaxTotal)
        {
            return texts;
        }
        var fitted = new List<string>();
        var total = 0;
        foreach (var field in distinct)
        {
            var text = $"unknown field {HeaderText(field.Length > Truncated ? field[..Truncated] : field)}";
            if (total + text.Length <= MaxTotal)
            {
                fitted.Add(text);
                total += text.Length;
            }
        }
        return fitted;
    }

    /// <summary>
    /// <c>"field"</c> as it goes inside the header's quoted text: a quote or backslash of the name
    /// escaped twice (once for the name, once for the header), and what a header may not carry
    /// (controls, non-ASCII; Kestrel would refuse the response) as \uXXXX.
    /// </summary>
    private static string HeaderText(string field)
    {
        var text = new System.Text.StringBuilder("\\\"");
        foreach (var c in field)
        {
            if (c is '"' or '\\')
            {
                text.Append("\\\\\\").Append(c);
            }
            else if (c is < ' ' or > '~')
            {
                text.Append("\\\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }
        return text.Append("\\\"").ToString();
    }

    /// <summary>
    /// The field manager of a write, as kube-apiserver picks it: the fieldManager parameter,
    /// else the program name of the User-Agent ("kubectl" of "kubectl/v1.32.4 (linux/amd64) …").
    /// An apply must name one, and only an apply may force, both checked as upstream (422).
    /// </summary>
    private static FieldManager ManagerOf(HttpContext context, bool apply)
    {
        var query = context.Request.Query;
        var named = (string?)query["fieldManager"];
        var causes = new List<FieldCause>();
        if (apply && string.IsNullOrEmpty(named))
        {
            causes.Add(FieldCause.Required("fieldManager", "is required for apply patch"));
        }
        if (!apply && query.ContainsKey("force"))
        {
            causes.Add(FieldCause.Forbidden("force", "may not be specified for non-apply patch"));
        }
        if (named is { Length: > 128 })
        {
            causes.Add(FieldCause.Invalid("fieldManager", named, "must be at most 128 characters"));
        }
        if (causes.Count > 0)
        {
            var kind = context.Request.Method switch { "PATCH" => "PatchOptions", "PUT" => "UpdateOptions", _ => "CreateOptions" };
            throw ApiException.InvalidOptions(kind, causes);
        }
        var agent = context.Request.Headers.UserAgent.ToString().Split('/')[0];
        var name = string.IsNullOrEmpty(named) ? agent : named;
        return new FieldManager(name.Length > 128 ? name[..128] : name);
    }

    /// <summary>The Eviction's deleteOptions, which the pod's deletion then follows.</summary>
    private static DeleteOptions EvictionDeleteOptions(JsonObject eviction, bool dryRun)
    {
        var options = eviction["deleteOptions"] as JsonObject ?? [];
        var policy = (string?)options["propagationPolicy"];
        if (policy is not (null or "Background" or "Foreground" or "Orphan"))
        {
            throw ApiException.BadRequest($"propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Background\", \"Foreground\", \"Orphan\"");
        }
        return new DeleteOptions(ObjectMeta.Long(options["gracePeriodSeconds"]), policy, (string?)options["preconditions"]?["uid"],
            (string?)options["preconditions"]?["resourceVersion"], dryRun || options["dryRun"] is JsonArray { Count: > 0 });
    }

    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        JsonObject body = [];
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            body = await Bodies.ReadObjectAsync(context.Request).ConfigureAwait(false);
        }
        long? grace = ObjectMeta.Long(body["gracePeriodSeconds"]);
        if (long.TryParse(query["gracePeriodSeconds"], out var g))
        {
            grace = g;
        }
        var policy = (string?)body["propagationPolicy"] ?? query["propagationPolicy"];
        if ((bool?)body["orphanDependents"] == true || query["orphanDependents"] == "true")
        {
            policy ??= "Orphan";
        }
        if (policy is not (null or "Background" or "Foreground" or "Orphan"))
        {
            throw ApiException.BadRequest($"propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Background\", \"Foreground\", \"Orphan\"");
        }
        var dryRun = query["dryRun"] == "All" || body["dryRun"] is JsonArray { Count: > 0 };
        return new DeleteOptions(grace, policy, (string?)body["preconditions"]?["uid"], (string?)body["preconditions"]?["resourceVersion"], dryRun);
    }
}
