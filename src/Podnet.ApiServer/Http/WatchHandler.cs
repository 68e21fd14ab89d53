using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Selectors;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Http;

/// <summary>
/// <c>?watch=true</c>: a stream of watch events as kube-apiserver sends them: JSON, one per line,
/// or (Accept application/vnd.kubernetes.protobuf) protobuf frames, each a 4-byte big-endian
/// length and a WatchEvent envelope (<see cref="Protobuf.WatchFrame"/>).
/// </summary>
/// <remarks>
/// A resourceVersion older than the store's window is answered with HTTP 200 and a single
/// ERROR event carrying a 410 Expired Status (what client-go and KubernetesClient expect);
/// unset or "0" starts with the current objects as ADDED events. With label or field
/// selectors, an object that starts matching arrives as ADDED and one that stops as DELETED.
/// </remarks>
internal sealed class WatchHandler(ObjectStore store, TimeSpan bookmarkInterval, CancellationToken stopping)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(2);

    public async Task ServeAsync(HttpContext context, ResourceInfo r, string? ns, LabelSelector labels, FieldSelector fields)
    {
        var query = context.Request.Query;
        var rvText = (string?)query["resourceVersion"] ?? "";
        var bookmarks = query["allowWatchBookmarks"] == "true";
        var initialEvents = query["sendInitialEvents"] == "true";
        // Custom resources are JSON only, as upstream (no protobuf message describes them).
        var format = Negotiation.Choose(context.Request.Headers.Accept.ToString(), protobufPossible: r.Custom is null, metadataAs: "*")
            ?? throw new ApiException(406, "NotAcceptable", Negotiation.NotAcceptableMessage);
        var asTable = format.Table;
        var framing = new Framing(format.Protobuf, r.ApiVersion, format.Metadata);
        var includeObject = context.Request.Query["includeObject"] == "Object";
        var firstRow = true;
        byte[] Encode(StoredObject o)
        {
            if (format.Metadata)
            {
                return Bodies.Utf8(PartialMetadata.Of(o.Parse()));
            }
            if (!asTable)
            {
                return format.Protobuf ? Protobuf.Encode(o) : r.Custom is { } c ? Bodies.Utf8(c.Present(r.Version, o.Parse())) : o.Json;
            }
            var table = Tables.TablePrinter.Print(r, r.Custom is { } custom ? custom.Present(r.Version, o.Parse()) : o.Parse(), includeObject);
            if (!firstRow)
            {
                table.Remove("columnDefinitions");
            }
            firstRow = false;
            return Bodies.Utf8(table);
        }
        var timeout = long.TryParse(query["timeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DefaultTimeout;
        bool Matches(StoredObject? o) => o is not null && (ns is null || o.Namespace == ns) && (labels.IsEmpty && fields.IsEmpty || Selected(o));
        bool Selected(StoredObject o)
        {
            var obj = o.Parse();
            return labels.Matches(obj) && fields.Matches(obj);
        }

        WatchHub.Subscription? subscription;
        List<StoredObject> initial = [];
        long lastRv;
        if (rvText is "" or "0" || initialEvents)
        {
            (initial, lastRv, subscription) = store.SnapshotAndSubscribe(r.Key, ns);
        }
        else if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out lastRv))
        {
            throw ApiException.BadRequest($"invalid resource version: {rvText}");
        }
        else
        {
            subscription = store.Subscribe(r.Key, lastRv);
        }

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = format.Protobuf ? Protobuf.WatchMediaType : "application/json";
        if (subscription is null)
        {
            var status = ApiException.Status(410, "Expired", $"too old resource version: {lastRv} ({store.Hub.FloorResourceVersion})", null);
            await framing.WriteAsync(response, "ERROR", status, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        using var _ = subscription;
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        lifetime.CancelAfter(timeout);
        try
        {
            await response.StartAsync(lifetime.Token).ConfigureAwait(false);
            foreach (var o in initial.Where(Matches))
            {
                await framing.WriteEventAsync(response, "ADDED", Encode(o), lifetime.Token).ConfigureAwait(false);
            }
            if (initialEvents && bookmarks)
            {
                await WriteBookmarkAsync(response, framing, r, lastRv, true, lifetime.Token).ConfigureAwait(false);
            }
            await response.Body.FlushAsync(lifetime.Token).ConfigureAwait(false);
            await FollowAsync(response, framing, r, subscription, Matches, Encode, bookmarks, lastRv, lifetime.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Timeout, client gone or server stopping: the stream just ends, as upstream.
        }
    }

    private async Task FollowAsync(HttpResponse response, Framing framing, ResourceInfo r, WatchHub.Subscription subscription, Func<StoredObject?, bool> matches, Func<StoredObject, byte[]> encode, bool bookmarks, long lastRv, CancellationToken token)
    {
        var reader = subscription.Reader;
        var nextBookmark = DateTime.UtcNow + bookmarkInterval;
        while (!token.IsCancellationRequested)
        {
            var wait = bookmarks ? nextBookmark - DateTime.UtcNow : Timeout.InfiniteTimeSpan;
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(token);
            if (bookmarks)
            {
                tick.CancelAfter(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
            }
            try
            {
                if (!await reader.WaitToReadAsync(tick.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                await WriteBookmarkAsync(response, framing, r, lastRv, false, token).ConfigureAwait(false);
                await response.Body.FlushAsync(token).ConfigureAwait(false);
                nextBookmark = DateTime.UtcNow + bookmarkInterval;
                continue;
            }
            // Events that arrive together leave together: a short wait before draining lets a
            // burst of writes reach this watcher in one flush (one TLS record, one send, one
            // wake-up) instead of one each.
            await Task.Delay(CoalesceWindow, token).ConfigureAwait(false);
            while (reader.TryRead(out var e))
            {
                lastRv = e.Object.ResourceVersion;
                var now = e.Type != StoreEventType.Deleted && matches(e.Object);
                var before = e.Previous is not null && matches(e.Previous);
                var type = e.Type switch
                {
                    StoreEventType.Deleted => before || matches(e.Object) ? "DELETED" : null,
                    _ when now && before => "MODIFIED",
                    _ when now => "ADDED",
                    _ when before => "DELETED",
                    _ => null,
                };
                if (type is not null)
                {
                    await framing.WriteEventAsync(response, type, encode(e.Object), token).ConfigureAwait(false);
                }
            }
            await response.Body.FlushAsync(token).ConfigureAwait(false);
        }
    }

    private static Task WriteBookmarkAsync(HttpResponse response, Framing framing, ResourceInfo r, long rv, bool initialEnd, CancellationToken token)
    {
        var metadata = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
        if (initialEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }
        var bookmark = framing.MetadataOnly
            ? new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = metadata }
            : new JsonObject { ["kind"] = r.Kind, ["apiVersion"] = r.ApiVersion, ["metadata"] = metadata };
        return framing.WriteAsync(response, "BOOKMARK", bookmark, token);
    }

    /// <summary>How events go on the wire: JSON lines, or protobuf frames naming the watched group version.</summary>
    private sealed record Framing(bool Protobuf, string GroupVersion, bool MetadataOnly = false)
    {
        private static readonly byte[] Suffix = "}\n"u8.ToArray();

        /// <summary>One event of an object already encoded (its JSON, or its protobuf envelope).</summary>
        public async Task WriteEventAsync(HttpResponse response, string type, byte[] encoded, CancellationToken token)
        {
            if (Protobuf)
            {
                await response.Body.WriteAsync(Http.Protobuf.WatchFrame(GroupVersion, type, encoded), token).ConfigureAwait(false);
                return;
            }
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"object\":"), token).ConfigureAwait(false);
            await response.Body.WriteAsync(encoded, token).ConfigureAwait(false);
            await response.Body.WriteAsync(Suffix, token).ConfigureAwait(false);
        }

        /// <summary>An event the server makes (BOOKMARK, ERROR), flushed at once.</summary>
        public async Task WriteAsync(HttpResponse response, string type, JsonObject obj, CancellationToken token)
        {
            await WriteEventAsync(response, type, Protobuf ? Http.Protobuf.Encode(obj) : Bodies.Utf8(obj), token).ConfigureAwait(false);
            await response.Body.FlushAsync(token).ConfigureAwait(false);
        }
    }
}
