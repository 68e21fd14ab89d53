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
}
