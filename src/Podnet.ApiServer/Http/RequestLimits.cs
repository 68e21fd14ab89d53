namespace Podnet.ApiServer.Http;

/// <summary>
/// The bounds on what one request may cost, with kube-apiserver's values and answers where it
/// has them (README "Limits").
/// </summary>
internal static class RequestLimits
{
    /// <summary>kube-apiserver's MaxRequestBodyBytes (3 MiB): a larger body is a 413 before it is decoded.</summary>
    public const int MaxRequestBodyBytes = 3 * 1024 * 1024;

    /// <summary>etcd's default --max-request-bytes (1.5 MiB), which bounds what kube-apiserver can store of one object.</summary>
    public const int MaxObjectBytes = 1536 * 1024;

    /// <summary>
    /// Nesting of JSON and YAML bodies. Upstream decodes 10,000 levels (Go's stacks grow). Here
    /// the object walks (field sets, merges, validation, JsonNode's writer) recurse on fixed-size
    /// thread stacks, and System.Text.Json writes at most 1,000 levels unless told otherwise: 500
    /// leaves room for what the server puts around an object (a list, a watch event, managed
    /// fields that mirror it), far beyond any real object (a CRD's schema is a few dozen levels).
    /// </summary>
    public const int MaxDepth = 500;

    public static ApiException BodyTooLarge() =>
        new(413, "RequestEntityTooLarge", $"Request entity too large: limit is {MaxRequestBodyBytes}");

    public static ApiException ObjectTooLarge(int bytes) =>
        new(413, "RequestEntityTooLarge", $"Request entity too large: the object is {bytes} bytes, over the limit of {MaxObjectBytes} an object may have in storage");

    /// <summary>max-requests-inflight's answer (upstream writes it as text; here the same words in a Status, with Retry-After: 1).</summary>
    public static ApiException TooManyRequests() =>
        new(429, "TooManyRequests", "Too many requests, please try again later.", new System.Text.Json.Nodes.JsonObject { ["retryAfterSeconds"] = 1 });

    public static ApiException Timeout() =>
        new(504, "Timeout", "Timeout: request did not complete within the allotted timeout", []);
}
