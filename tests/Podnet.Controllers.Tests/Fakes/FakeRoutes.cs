using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>
/// Request handling of <see cref="FakeApiServer"/> (a test stand-in for the lab's API server):
/// parses /api/v1/… and /apis/GROUP/VERSION/… paths and serves them from <see cref="FakeStore"/>.
/// </summary>
internal sealed class FakeRoutes(FakeStore store, ConcurrentDictionary<HttpContext, byte> watches)
{
    private sealed record Target(string Resource, string? Namespace, string? Name, string? Subresource);

    public async Task HandleAsync(HttpContext context)
    {
        var target = Parse(context.Request.Path.Value ?? "");
        if (target is null || !FakeStore.Kinds.ContainsKey(target.Resource))
        {
            await FakeApiServer.WriteStatus(context, 404, "NotFound", $"the server could not find the requested resource ({context.Request.Path})");
            return;
        }
        var method = context.Request.Method;
        if (target.Name is null && method == "GET")
        {
            await (IsWatch(context) ? FakeWatch.ServeAsync(context, store, watches, target.Resource) : ListAsync(context, target));
            return;
        }
        if (target.Name is null && method == "DELETE")
        {
            foreach (var item in store.List(target.Resource, target.Namespace).Items)
            {
                store.Delete(target.Resource, target.Namespace, (string)item["metadata"]!["name"]!);
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(FakeApiServer.StatusJson(200, "", "deleted").ToJsonString());
            return;
        }
        var body = method is "POST" or "PUT" or "PATCH" ? JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())?.AsObject() : null;
        var (code, result) = method switch
        {
            "POST" when target.Subresource == "binding" => Bind(target, body!),
            "POST" => Create(target, body!),
            "GET" => Get(target),
            "PUT" => Replace(target, body!),
            "PATCH" => Patch(target, body!),
            "DELETE" => Delete(target),
            _ => (405, FakeApiServer.StatusJson(405, "MethodNotAllowed", method)),
        };
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(result.ToJsonString());
    }

    private static bool IsWatch(HttpContext context) => context.Request.Query["watch"].ToString() is "true" or "1";

    private static Target? Parse(string path)
    {
        var parts = path.Trim('/').Split('/');
        var rest = parts[0] == "api" ? parts.Skip(2).ToArray() : parts.Skip(3).ToArray();
        if (rest.Length >= 3 && rest[0] == "namespaces" && rest[2] is not ("status" or "finalize"))
        {
            return new Target(rest[2], rest[1], rest.ElementAtOrDefault(3), rest.ElementAtOrDefault(4));
        }
        return rest.Length >= 1 ? new Target(rest[0], null, rest.ElementAtOrDefault(1), rest.ElementAtOrDefault(2)) : null;
    }

    private async Task ListAsync(HttpContext context, Target target)
    {
        var (all, rv) = store.List(target.Resource, target.Namespace);
        var filter = FakeSelector.Parse(context.Request.Query["fieldSelector"], context.Request.Query["labelSelector"]);
        var items = all.Where(filter.Matches).ToList();
        var (apiVersion, kind) = FakeStore.Kinds[target.Resource];
        var list = new JsonObject
        {
            ["kind"] = kind + "List",
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray([.. items]),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(list.ToJsonString());
    }

    private (int, JsonObject) Get(Target t) =>
        store.Get(t.Resource, t.Namespace, t.Name!) is { } o ? (200, o) : NotFound(t);

    private (int, JsonObject) Create(Target t, JsonObject body)
    {
        var meta = body["metadata"]?.AsObject() ?? [];
        body["metadata"] = meta;
        if (t.Namespace is not null)
        {
            meta["namespace"] = t.Namespace;
        }
        if (meta["name"] is null && (string?)meta["generateName"] is { } prefix)
        {
            meta["name"] = NameGenerator.Generate(prefix, Random.Shared);
        }
        if (store.Get(t.Resource, t.Namespace, (string)meta["name"]!) is not null)
        {
            return (409, FakeApiServer.StatusJson(409, "AlreadyExists", $"{t.Resource} \"{meta["name"]}\" already exists"));
        }
        return (201, store.Put(t.Resource, body));
    }

    private (int, JsonObject) Replace(Target t, JsonObject body)
    {
        if (store.Get(t.Resource, t.Namespace, t.Name!) is not { } current)
        {
            return NotFound(t);
        }
        if (t.Subresource == "finalize")
        {
            current["spec"] = body["spec"]?.DeepClone();
            var result = store.Put(t.Resource, current);
            // As the API server: a deleted namespace without finalizers goes away.
            if (current["metadata"]?["deletionTimestamp"] is not null && current["spec"]?["finalizers"] is not JsonArray { Count: > 0 })
            {
                store.Delete(t.Resource, null, t.Name!);
            }
            return (200, result);
        }
        var rv = (string?)body["metadata"]?["resourceVersion"];
        if (!string.IsNullOrEmpty(rv) && rv != (string?)current["metadata"]!["resourceVersion"])
        {
            return (409, FakeApiServer.StatusJson(409, "Conflict", $"Operation cannot be fulfilled on {t.Resource} \"{t.Name}\": the object has been modified"));
        }
        if (t.Subresource == "status")
        {
            current["status"] = body["status"]?.DeepClone();
            return (200, store.Put(t.Resource, current));
        }
        body["status"] = current["status"]?.DeepClone();
        body["metadata"]!["namespace"] = t.Namespace;
        return (200, store.Put(t.Resource, body));
    }

    private (int, JsonObject) Patch(Target t, JsonObject patch)
    {
        if (store.Get(t.Resource, t.Namespace, t.Name!) is not { } current)
        {
            return NotFound(t);
        }
        MergePatch(current, patch);
        return (200, store.Put(t.Resource, current));
    }

    private (int, JsonObject) Delete(Target t) =>
        store.Delete(t.Resource, t.Namespace, t.Name!) ? (200, FakeApiServer.StatusJson(200, "", "deleted")) : NotFound(t);

    private (int, JsonObject) Bind(Target t, JsonObject binding)
    {
        if (store.Get("pods", t.Namespace, t.Name!) is not { } pod)
        {
            return NotFound(t);
        }
        if ((string?)pod["spec"]?["nodeName"] is { Length: > 0 } node)
        {
            return (409, FakeApiServer.StatusJson(409, "Conflict", $"pod {t.Name} is already assigned to node \"{node}\""));
        }
        pod["spec"]!["nodeName"] = (string?)binding["target"]?["name"];
        store.Put("pods", pod);
        return (201, FakeApiServer.StatusJson(201, "", "bound"));
    }

    /// <summary>RFC 7386: null removes, objects merge, anything else replaces.</summary>
    public static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child)
            {
                if (target[key] is not JsonObject existing)
                {
                    target[key] = existing = [];
                }
                MergePatch(existing, child);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static (int, JsonObject) NotFound(Target t) =>
        (404, FakeApiServer.StatusJson(404, "NotFound", $"{t.Resource} \"{t.Name}\" not found"));
}
