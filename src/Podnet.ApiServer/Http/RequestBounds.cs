using Microsoft.AspNetCore.Http;

namespace Podnet.ApiServer.Http;

/// <summary>
/// kube-apiserver's max-requests-inflight, max-mutating-requests-inflight and request-timeout
/// filters, around every request: too many at once is a 429 with Retry-After: 1, a request
/// past its time is a 504 Timeout, and long-running requests (watches) are in neither.
/// </summary>
/// <remarks>
/// Design note. Upstream runs the handler in another goroutine and answers 504 when the timer
/// fires, whatever the handler is still doing. Here the deadline cancels the request's token
/// (<see cref="HttpContext.RequestAborted"/>) instead, and the 504 is written when the handler
/// gives up: everything a request does that can take long checks that token (reading the body,
/// converting YAML) or is bounded by the body's size, so no work outlives its answer, and SIGTERM
/// (the server's stopping token, linked in) ends a request as the deadline does. Health checks
/// are in no limit, so a probe still answers under load.
/// </remarks>
internal sealed class RequestBounds(int maxReadOnly, int maxMutating, TimeSpan timeout, CancellationToken stopping)
{
    private static readonly HashSet<string> Health = ["/healthz", "/livez", "/readyz"];

    private readonly Slots _readOnly = new(maxReadOnly);
    private readonly Slots _mutating = new(maxMutating);

    /// <summary>
    /// Watches, and as upstream's LongRunningRequestCheck the streaming subresources (exec,
    /// attach, portforward, log, proxy), which last as long as their client wants.
    /// </summary>
    public static bool IsLongRunning(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) && (string?)request.Query["watch"] is "true" or "1")
        {
            return true;
        }
        var segments = (request.Path.Value ?? "").Trim('/').Split('/');
        return segments is ["api", "v1", "namespaces", _, "pods", _, "exec" or "attach" or "portforward" or "log"]
            || (segments.Length >= 5 && segments[..3] is ["api", "v1", "nodes"] && segments[4] == "proxy");
    }

    public async Task ServeAsync(HttpContext context, Func<HttpContext, Task> next)
    {
        var request = context.Request;
        if (IsLongRunning(request) || Health.Contains(request.Path.Value?.TrimEnd('/') ?? ""))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var slots = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) ? _readOnly : _mutating;
        if (!slots.TryTake())
        {
            context.Response.Headers.RetryAfter = "1";
            await WriteAsync(context, RequestLimits.TooManyRequests()).ConfigureAwait(false);
            return;
        }
        try
        {
            await ServeWithDeadlineAsync(context, next).ConfigureAwait(false);
        }
        finally
        {
            slots.Return();
        }
    }

    private async Task ServeWithDeadlineAsync(HttpContext context, Func<HttpContext, Task> next)
    {
        var aborted = context.RequestAborted;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        if (timeout > TimeSpan.Zero)
        {
            deadline.CancelAfter(timeout);
        }
        context.RequestAborted = deadline.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            await WriteAsync(context, RequestLimits.Timeout()).ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    }

    private static Task WriteAsync(HttpContext context, ApiException error) =>
        context.Response.HasStarted ? Task.CompletedTask : Bodies.WriteAsync(context.Response, error.Code, error.ToStatus());

    /// <summary>A count of requests in flight against a limit; 0 is no limit, as upstream.</summary>
    private sealed class Slots(int limit)
    {
        private int _used;

        public bool TryTake()
        {
            if (Interlocked.Increment(ref _used) <= limit || limit <= 0)
            {
                return true;
            }
            Interlocked.Decrement(ref _used);
            return false;
        }

        public void Return() => Interlocked.Decrement(ref _used);
    }
}
