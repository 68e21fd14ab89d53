using System.Net;
using System.Text.Json.Nodes;
using k8s.Autorest;
using k8s.Models;

namespace Podnet.Controllers.Runtime;

/// <summary>Small helpers for the apply step.</summary>
internal static class Writes
{
    /// <summary>A JSON merge patch (RFC 7386) body.</summary>
    public static V1Patch Merge(JsonObject patch) => new(patch.ToJsonString(), V1Patch.PatchType.MergePatch);

    /// <summary>Runs a write whose "already done" answers (404 on delete, 409 on create) mean success.</summary>
    public static async Task<bool> TolerateAsync(Func<Task> write, params HttpStatusCode[] fine)
    {
        try
        {
            await write().ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException e) when (fine.Contains(e.Response.StatusCode))
        {
            return false;
        }
    }

    /// <summary>
    /// Upstream's slow start for a controller's many like writes: batches of 1, 2, 4, … run
    /// concurrently, so a burst goes out in a handful of round trips while a write that keeps
    /// failing costs one request, not hundreds; the first failing batch stops the rest and its
    /// first error is thrown once the batch has ended.
    /// </summary>
    public static async Task SlowStartAsync<T>(IReadOnlyList<T> items, Func<T, Task> write)
    {
        for (int done = 0, batch = 1; done < items.Count; done += batch, batch *= 2)
        {
            batch = Math.Min(batch, items.Count - done);
            await Task.WhenAll(items.Skip(done).Take(batch).Select(write)).ConfigureAwait(false);
        }
    }
}
