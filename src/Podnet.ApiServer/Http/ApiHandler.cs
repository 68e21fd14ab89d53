using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Selectors;

namespace Podnet.ApiServer.Http;

/// <summary>
/// The one endpoint behind every path: authentication, then discovery, health, or a resource
/// verb decoded from the method, the path and the query, answered as kube-apiserver would.
/// </summary>
internal sealed partial class ApiHandler(ResourceService service, WatchHandler watch, Auth.AccessGate gate, string serverAddress)
{

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            var path = context.Request.Path.Value ?? "/";
            var user = gate.Admit(context);
            if (await gate.ServeAsync(context, path, user).ConfigureAwait(false))
            {
                return;
            }
            if (await ServeStreamingAsync(context, path).ConfigureAwait(false) || await ServeNonResourceAsync(context, path).ConfigureAwait(false))
            {
                return;
            }
            var info = RequestInfo.Parse(path, service.Crds) ?? throw new ApiException(404, "NotFound", "the server could not find the requested resource");
            await ServeResourceAsync(context, info).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            Auth.AuditLog.NoteError(context, e);
            if (e.Code == 403)
            {
                Auth.AccessGate.RecordForbidden(context, e);
            }
            if (!context.Response.HasStarted)
            {
                await Bodies.WriteAsync(context.Response, e.Code, e.ToStatus()).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException e) when (!context.Response.HasStarted && e.StackTrace?.Contains("System.Text.Json.Nodes", StringComparison.Ordinal) == true)
        {
            // A JsonNode read as the wrong type: a field of the body has the wrong JSON type,
            // which kube-apiserver answers as a decoding error (400), not a server fault.
            await Bodies.WriteAsync(context.Response, 400, ApiException.BadRequest($"the object has a field of the wrong type: {e.Message}").ToStatus()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            await Bodies.WriteAsync(context.Response, 500, ApiException.Status(500, "InternalError", $"Internal error occurred: {e.Message}", null)).ConfigureAwait(false);
        }
    }

    private async Task<bool> ServeNonResourceAsync(HttpContext context, string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed is "/api" or "/apis" && AggregatedDiscovery.Wanted(context.Request.Headers.Accept.ToString()))
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = AggregatedDiscovery.ContentType;
            await context.Response.Body.WriteAsync(Bodies.Utf8(AggregatedDiscovery.List(trimmed == "/api", service.Crds))).ConfigureAwait(false);
            return true;
        }
        JsonNode? body = trimmed switch
        {
            "/version" => Discovery.Version(),
            "/api" => Discovery.Api(serverAddress),
            "/apis" => Discovery.Groups(service.Crds),
            "/api/v1" => Discovery.Resources("", "v1", service.Crds),
            _ when trimmed.StartsWith("/apis/", StringComparison.Ordinal) => Discovery.ForPath(trimmed, service.Crds),
            _ => null,
        };
        if (body is not null)
        {
            await Bodies.WriteAsync(context.Response, 200, body).ConfigureAwait(false);
            return true;
        }
        if (trimmed is "/healthz" or "/livez" or "/readyz" || trimmed.StartsWith("/healthz/", StringComparison.Ordinal) || trimmed.StartsWith("/livez/", StringComparison.Ordinal) || trimmed.StartsWith("/readyz/", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("ok").ConfigureAwait(false);
            return true;
        }
        if (trimmed.StartsWith("/openapi/", StringComparison.Ordinal))
        {
            return await OpenApi.ServeAsync(context, trimmed, service.Crds).ConfigureAwait(false);
        }
        return false;
    }

    private async Task ServeResourceAsync(HttpContext context, RequestInfo info)
    {
        var (r, ns, name, sub) = info;
        if (r.Custom is { WebhookConversion: true } custom && r.Version != custom.StorageVersion)
        {
            throw ApiException.BadRequest($"conversion webhook for {custom.Group}/{custom.StorageVersion}, Kind={custom.Kind} is not supported by Podnet: only the storage version {custom.Group}/{custom.StorageVersion} of {custom.Plural}.{custom.Group} is served");
        }
        var request = context.Request;
        var query = request.Query;
        var dryRun = query["dryRun"] == "All";
        switch (request.Method)
        {
            case "GET" when name is null:
                var list = ParseListOptions(context, r);
                if ((string?)query["watch"] is "true" or "1")
                {
                    await watch.ServeAsync(context, r, ns, list.Labels, list.Fields).ConfigureAwait(false);
                    return;
                }
                await WriteObjectAsync(context, 200, r, service.List(r, ns, list)).ConfigureAwait(false);
                return;
            case "GET":
                var found = sub == "scale" ? await service.GetScale(r, ns, name).ConfigureAwait(false) : service.Get(r, ns, name);
                await WriteObjectAsync(context, 200, r, found).ConfigureAwait(false);
                return;
            case "POST" when name is null:
                var body = CheckFields(context, r, sub, await Bodies.ReadObjectAsync(request).ConfigureAwait(false));
                var created = await service.CreateAsync(r, ns, body, dryRun, ManagerOf(context, false)).ConfigureAwait(false);
                await WriteObjectAsync(context, 201, r, created).ConfigureAwait(false);
                return;
            case "POST" when sub == "binding" && ns is not null:
                var binding = await service.BindAsync(ns, name, await Bodies.ReadObjectAsync(request).ConfigureAwait(false)).ConfigureAwait(false);
                await Bodies.WriteAsync(context.Response, 201, binding).ConfigureAwait(false);
                return;
            case "POST" when sub == "eviction" && ns is not null:
                var eviction = CheckFields(context, r, sub, await Bodies.ReadObjectAsync(request).ConfigureAwait(false));
                var evicted = await service.EvictAsync(ns, name, eviction, EvictionDeleteOptions(eviction, dryRun)).ConfigureAwait(false);
                await Bodies.WriteAsync(context.Response, 201, evicted).ConfigureAwait(false);
                return;
            case "PUT" when name is not null:
                var replacement = CheckFields(context, r, sub, await Bodies.ReadObjectAsync(request).ConfigureAwait(false));
                var updated = await service.UpdateAsync(r, ns, name, sub, replacement, dryRun, ManagerOf(context, false)).ConfigureAwait(false);
                await WriteObjectAsync(context, 200, r, updated).ConfigureAwait(false);
                return;
            case "PATCH" when name is not null:
                var type = PatchTypeOf(request.ContentType);
                if (type == PatchType.Strategic && r.Custom is not null)
                {
                    // Custom resources have no patch merge keys: upstream refuses strategic merge for them.
                    throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
                }
                var manager = ManagerOf(context, type == PatchType.Apply);
                var patch = CheckFields(context, r, sub, await Bodies.ReadAsync(request).ConfigureAwait(false));
                if (type == PatchType.Apply)
                {
                    var config = patch as JsonObject ?? throw ApiException.BadRequest("the apply configuration must be an object");
                    var force = (string?)query["force"] is "true" or "1";
                    var (applied, wasCreated) = await service.ServerSideApplyAsync(r, ns, name, sub, config, manager, force, dryRun).ConfigureAwait(false);
                    await WriteObjectAsync(context, wasCreated ? 201 : 200, r, applied).ConfigureAwait(false);
                    return;
                }
                // A JSON patch's operations carry paths, not fields: what it leaves is checked instead.
                Action<JsonObject>? checkResult = type == PatchType.Json ? result => CheckFields(context, r, sub, result, patch: false) : null;
                var patched = await service.PatchAsync(r, ns, name, sub, type, patch, dryRun, manager, checkResult).ConfigureAwait(false);
                await WriteObjectAsync(context, 200, r, patched).ConfigureAwait(false);
                return;
            case "DELETE" when name is not null:
                await DeleteAsync(context, r, ns, name).ConfigureAwait(false);
                return;
            case "DELETE":
                var options = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
                await service.DeleteCollectionAsync(r, ns, ParseListOptions(context, r), options).ConfigureAwait(false);
                await Bodies.WriteAsync(context.Response, 200, ResourceService.Success(r, "", "")).ConfigureAwait(false);
                return;
            default:
                throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource");
        }
    }

    private async Task DeleteAsync(HttpContext context, ResourceInfo r, string? ns, string name)
    {
        var options = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
        var (remaining, last) = await service.DeleteAsync(r, ns, name, options).ConfigureAwait(false);
        if (remaining is not null)
        {
            await WriteObjectAsync(context, 200, r, remaining).ConfigureAwait(false);
        }
        else if (r == ResourceCatalog.Pods || r == ResourceCatalog.Services)
        {
            await WriteObjectAsync(context, 200, r, last).ConfigureAwait(false);
        }
        else
        {
            await Bodies.WriteAsync(context.Response, 200, ResourceService.Success(r, name, last.Uid())).ConfigureAwait(false);
        }
    }

    private static PatchType PatchTypeOf(string? contentType) => contentType?.Split(';')[0].Trim() switch
    {
        "application/strategic-merge-patch+json" => PatchType.Strategic,
        "application/merge-patch+json" => PatchType.Merge,
        "application/json-patch+json" => PatchType.Json,
        "application/apply-patch+yaml" => PatchType.Apply,
        _ => throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"),
    };

    private static ListOptions ParseListOptions(HttpContext context, ResourceInfo r)
    {
        var query = context.Request.Query;
        try
        {
            var labels = LabelSelector.Parse(query["labelSelector"]);
            var fields = FieldSelector.Parse(query["fieldSelector"], r);
            var limit = int.TryParse(query["limit"], out var l) && l > 0 ? l : 0;
            return new ListOptions(labels, fields, limit, query["continue"]);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
    }
}
