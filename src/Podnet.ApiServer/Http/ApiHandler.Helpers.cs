using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;

namespace Podnet.ApiServer.Http;

internal sealed partial class ApiHandler
{
    /// <summary>Writes an object or a list, as a Table when the client asked for one.</summary>
    private static Task WriteObjectAsync(HttpContext context, int code, ResourceInfo r, JsonObject body)
    {
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("as=Table", StringComparison.Ordinal) && (string?)body["kind"] != "Scale")
        {
            var wide = context.Request.Query["includeObject"] == "Object";
            return Bodies.WriteAsync(context.Response, code, TablePrinter.Print(r, body, wide));
        }
        return Bodies.WriteAsync(context.Response, code, body);
    }

    /// <summary>
    /// fieldValidation as kube-apiserver: Strict fails on a field the kind does not have, Warn
    /// (the default) answers with a Warning header, Ignore says nothing.
    /// </summary>
    private static T CheckFields<T>(HttpContext context, ResourceInfo r, string? sub, T body)
        where T : JsonNode
    {
        var mode = (string?)context.Request.Query["fieldValidation"] ?? "Warn";
        if (mode is not ("Strict" or "Warn" or "Ignore"))
        {
            throw ApiException.BadRequest($"fieldValidation: Unsupported value: \"{mode}\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
        }
        if (mode == "Ignore" || Validation.UnknownFields.Find(r, sub, body) is not { } field)
        {
            return body;
        }
        if (mode == "Strict")
        {
            throw ApiException.BadRequest($"strict decoding error: unknown field \"{field}\"");
        }
        context.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{field}\\\"\"");
        return body;
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
