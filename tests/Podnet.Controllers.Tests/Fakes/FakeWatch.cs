using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>The watch verb of <see cref="FakeApiServer"/> (a test stand-in): newline-delimited events, 410 for a compacted resourceVersion.</summary>
internal static class FakeWatch
{
    public static async Task ServeAsync(HttpContext context, FakeStore store, ConcurrentDictionary<HttpContext, byte> watches, string resource)
    {
        var rvText = context.Request.Query["resourceVersion"].ToString();
        var fromRv = long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var rv) ? rv : store.ResourceVersion;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        var filter = FakeSelector.Parse(context.Request.Query["fieldSelector"], context.Request.Query["labelSelector"]);
        var subscription = store.Subscribe(resource, fromRv);
        if (subscription is not { } sub)
        {
            var status = FakeApiServer.StatusJson(410, "Expired", $"too old resource version: {fromRv} ({store.ResourceVersion})");
            await context.Response.WriteAsync(new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString() + "\n");
            return;
        }
        watches[context] = 0;
        try
        {
            foreach (var line in sub.Backlog.Select(filter.Line).OfType<string>())
            {
                await context.Response.WriteAsync(line + "\n");
            }
            await context.Response.Body.FlushAsync();
            var timeout = int.TryParse(context.Request.Query["timeoutSeconds"], out var s) ? TimeSpan.FromSeconds(s) : TimeSpan.FromMinutes(5);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            cts.CancelAfter(timeout);
            await foreach (var change in sub.Live.Reader.ReadAllAsync(cts.Token))
            {
                if (filter.Line(change) is not { } line)
                {
                    continue;
                }
                await context.Response.WriteAsync(line + "\n", cts.Token);
                await context.Response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // timeout or client gone: end the response
        }
        finally
        {
            store.Unsubscribe(sub.Live);
            watches.TryRemove(context, out _);
        }
    }
}
