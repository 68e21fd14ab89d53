using System.Globalization;
using System.Text.RegularExpressions;

namespace Podnet.Core.Cluster;

/// <summary>Durations as Kubernetes components' flags take them (Go's syntax): "40s", "1m0s", "1.5s", "500ms", "1h".</summary>
public static partial class GoDuration
{
    /// <summary>Longer texts are refused before they are matched.</summary>
    private const int MaxLength = 64;

    public static TimeSpan Parse(string text)
    {
        if (text == "0")
        {
            return TimeSpan.Zero;
        }
        var match = text.Length <= MaxLength ? Pattern().Match(text) : Match.Empty;
        if (!match.Success)
        {
            throw new FormatException($"'{(text.Length <= MaxLength ? text : text[..MaxLength] + "…")}' is not a duration like 60s, 1m0s or 500ms");
        }
        var total = 0.0;
        for (var i = 0; i < match.Groups[1].Captures.Count; i++)
        {
            var value = double.Parse(match.Groups[1].Captures[i].Value, CultureInfo.InvariantCulture);
            total += match.Groups[2].Captures[i].Value switch { "h" => value * 3600, "m" => value * 60, "s" => value, _ => value / 1000 };
        }
        return TimeSpan.FromSeconds(total);
    }

    [GeneratedRegex(@"^(?:(\d{1,9}(?:\.\d{1,9})?)(h|ms|m|s))+$")]
    private static partial Regex Pattern();
}
