using System.Globalization;
using System.Text;

namespace Podnet.ApiServer.Http.Proto;

/// <summary>
/// meta/v1 Time, MicroTime and Duration between their JSON text and their wire values: Time is
/// RFC 3339 in seconds ("2006-01-02T15:04:05Z"), MicroTime with six fraction digits, both UTC
/// (a Timestamp message of seconds since the epoch and nanoseconds); Duration is Go's
/// time.Duration text ("1h2m3.5s") over int64 nanoseconds.
/// </summary>
internal static class ProtoTime
{
    public static (long Seconds, int Nanos) Parse(string text, bool micro)
    {
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new FormatException($"\"{text}\" is not an RFC 3339 time");
        }
        var seconds = time.ToUnixTimeSeconds();
        var ticks = time.UtcTicks % TimeSpan.TicksPerSecond;
        // Time drops the fraction, as upstream's Time.ProtoTime; MicroTime keeps microseconds.
        var nanos = micro ? (int)(ticks / 10 * 1000) : 0;
        return (seconds, nanos);
    }

    public static string Format(long seconds, int nanos, bool micro)
    {
        // Timestamp's own range (years 1 to 9999), as upstream's Timestamp documents it.
        if (seconds is < -62135596800 or > 253402300799 || nanos is < 0 or > 999_999_999)
        {
            throw new FormatException($"time {seconds} s {nanos} ns is outside 0001-01-01 to 9999-12-31");
        }
        var time = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime;
        if (!micro)
        {
            return time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }
        time = time.AddTicks(nanos / 1000 * 10);
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Go's time.Duration.String().</summary>
    public static string FormatDuration(long nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return "0s";
        }
        var negative = nanoseconds < 0;
        var n = negative ? (ulong)-nanoseconds : (ulong)nanoseconds;
        var text = new StringBuilder();
        if (n < 1_000_000_000)
        {
            // Below a second: one unit (ns, µs, ms) with a fraction.
            var (unit, scale) = n < 1_000 ? ("ns", 1UL) : n < 1_000_000 ? ("µs", 1_000UL) : ("ms", 1_000_000UL);
            text.Append(Fraction(n, scale)).Append(unit);
        }
        else
        {
            var hours = n / 3_600_000_000_000;
            var minutes = n / 60_000_000_000 % 60;
            var rest = n % 60_000_000_000;
            if (hours > 0)
            {
                text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
            }
            if (hours > 0 || minutes > 0)
            {
                text.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
            }
            text.Append(Fraction(rest, 1_000_000_000)).Append('s');
        }
        return negative ? "-" + text : text.ToString();
    }

    private static string Fraction(ulong value, ulong scale)
    {
        var whole = (value / scale).ToString(CultureInfo.InvariantCulture);
        var fraction = value % scale;
        if (fraction == 0)
        {
            return whole;
        }
        var digits = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(scale.ToString(CultureInfo.InvariantCulture).Length - 1, '0').TrimEnd('0');
        return whole + "." + digits;
    }

    /// <summary>Go's time.ParseDuration: a sequence of decimal numbers, each with a unit.</summary>
    public static long ParseDuration(string text)
    {
        var s = text;
        var negative = s.StartsWith('-');
        s = s.TrimStart('-', '+');
        if (s == "0")
        {
            return 0;
        }
        if (s.Length == 0)
        {
            throw new FormatException($"invalid duration \"{text}\"");
        }
        decimal total = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }
            if (start == unitStart || !decimal.TryParse(s.AsSpan(start, unitStart - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                throw new FormatException($"invalid duration \"{text}\"");
            }
            total += number * (s[unitStart..i] switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => throw new FormatException($"unknown unit \"{s[unitStart..i]}\" in duration \"{text}\""),
            });
        }
        var result = (long)decimal.Truncate(total);
        return negative ? -result : result;
    }
}
