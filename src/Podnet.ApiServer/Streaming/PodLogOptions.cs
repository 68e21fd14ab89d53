using System.Globalization;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// pods/log's query (PodLogOptions) as kube-apiserver validates it and kubelet's /containerLogs
/// takes it: follow, previous, timestamps, sinceSeconds or sinceTime, tailLines, limitBytes.
/// </summary>
public sealed record PodLogOptions(
    string? Container = null,
    bool Follow = false,
    bool Previous = false,
    bool Timestamps = false,
    long? SinceSeconds = null,
    DateTime? SinceTime = null,
    long? TailLines = null,
    long? LimitBytes = null)
{
    /// <summary>
    /// Parses a query (name → values); malformed numbers and booleans are a 400, values out of
    /// range a 422 Invalid with one cause each, as kube-apiserver answers.
    /// </summary>
    public static PodLogOptions Parse(string pod, Func<string, string?> query)
    {
        var options = new PodLogOptions(
            query("container") is { Length: > 0 } c ? c : null,
            Bool(query, "follow"),
            Bool(query, "previous"),
            Bool(query, "timestamps"),
            Long(query, "sinceSeconds"),
            Time(query, "sinceTime"),
            Long(query, "tailLines"),
            Long(query, "limitBytes"));
        var causes = new List<FieldCause>();
        if (options.SinceSeconds is not null && options.SinceTime is not null)
        {
            causes.Add(FieldCause.Forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
        }
        if (options.SinceSeconds is < 1)
        {
            causes.Add(FieldCause.Invalid("sinceSeconds", options.SinceSeconds, "must be greater than 0"));
        }
        if (options.TailLines is < 0)
        {
            causes.Add(FieldCause.Invalid("tailLines", options.TailLines, "must be greater than or equal to 0"));
        }
        if (options.LimitBytes is < 1)
        {
            causes.Add(FieldCause.Invalid("limitBytes", options.LimitBytes, "must be greater than 0"));
        }
        if (causes.Count > 0)
        {
            throw ApiException.InvalidPodLogOptions(pod, causes);
        }
        return options;
    }

    /// <summary>The earliest time a line may have, or null for all.</summary>
    public DateTime? SinceUtc(DateTime now) =>
        SinceTime ?? (SinceSeconds is { } seconds ? now - TimeSpan.FromSeconds(Math.Min(seconds, 100L * 365 * 86400)) : null);

    /// <summary>The options as a query string for the kubelet (the container is in the path there).</summary>
    public string ToQuery()
    {
        var parts = new List<string>();
        if (Follow)
        {
            parts.Add("follow=true");
        }
        if (Previous)
        {
            parts.Add("previous=true");
        }
        if (Timestamps)
        {
            parts.Add("timestamps=true");
        }
        if (SinceSeconds is { } since)
        {
            parts.Add($"sinceSeconds={since.ToString(CultureInfo.InvariantCulture)}");
        }
        if (SinceTime is { } time)
        {
            parts.Add("sinceTime=" + Uri.EscapeDataString(time.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)));
        }
        if (TailLines is { } tail)
        {
            parts.Add($"tailLines={tail.ToString(CultureInfo.InvariantCulture)}");
        }
        if (LimitBytes is { } limit)
        {
            parts.Add($"limitBytes={limit.ToString(CultureInfo.InvariantCulture)}");
        }
        return string.Join("&", parts);
    }

    private static bool Bool(Func<string, string?> query, string name) => query(name) switch
    {
        null or "" or "false" or "0" => false,
        "true" or "1" => true,
        var other => throw ApiException.BadRequest($"{name}: '{other}' is not a boolean (true or false)"),
    };

    private static long? Long(Func<string, string?> query, string name) => query(name) switch
    {
        null or "" => null,
        var text when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        var other => throw ApiException.BadRequest($"{name}: '{other}' is not an integer"),
    };

    private static DateTime? Time(Func<string, string?> query, string name) => query(name) switch
    {
        null or "" => null,
        var text when DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) && text.Contains('T') => t,
        var other => throw ApiException.BadRequest($"{name}: '{other}' is not an RFC3339 time"),
    };
}
