using System.Globalization;
using System.Text.RegularExpressions;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// The <c>format</c> of a CRD schema's string, checked as kube-apiserver checks it (kube-openapi's
/// format registry, failing with "PATH in body must be of type FORMAT: \"VALUE\"").
/// </summary>
/// <remarks>
/// Checked: ipv4, ipv6, cidr (host bits allowed, as Go's ParseCIDR), mac, uuid, uuid3, uuid4,
/// uuid5, byte (standard base64), date, date-time (also spelt datetime), hostname. Formats
/// upstream also knows but that are not checked here: uri, email, bsonobjectid, isbn, isbn10,
/// isbn13, creditcard, ssn, hexcolor, rgbcolor, password, duration. Any other format (int32,
/// int64, float, double on numbers included) is ignored, as upstream ignores unknown formats.
/// </remarks>
internal static partial class StringFormats
{
    /// <summary>Whether <paramref name="value"/> is of <paramref name="format"/>; true for a format not checked.</summary>
    public static bool Matches(string format, string value) => format switch
    {
        "ipv4" => IsIPv4(value),
        "ipv6" => IsIPv6(value),
        "cidr" => IsCidr(value),
        "mac" => Mac().IsMatch(value),
        "uuid" => Uuid().IsMatch(value),
        "uuid3" => Uuid().IsMatch(value) && value[14] == '3',
        "uuid4" => Uuid().IsMatch(value) && value[14] == '4' && "89abAB".Contains(value[19]),
        "uuid5" => Uuid().IsMatch(value) && value[14] == '5' && "89abAB".Contains(value[19]),
        "byte" => Convert.TryFromBase64String(value, new byte[value.Length], out _),
        "date" => DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "date-time" or "datetime" => IsDateTime(value),
        "hostname" => value.Length <= 255 && Hostname().IsMatch(value),
        _ => true,
    };

    private static bool IsIPv4(string s)
    {
        var parts = s.Split('.');
        // Leading zeros are accepted, as Go's ParseIPSloppy (what upstream's check uses) does.
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    private static bool IsIPv6(string s) =>
        s.Contains(':') && !s.Contains('%') && !s.Contains('[') && System.Net.IPAddress.TryParse(s, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;

    private static bool IsCidr(string s)
    {
        var slash = s.IndexOf('/');
        if (slash < 0 || s.Length - slash - 1 is < 1 or > 3 || !s[(slash + 1)..].All(char.IsAsciiDigit))
        {
            return false;
        }
        var prefix = int.Parse(s[(slash + 1)..], CultureInfo.InvariantCulture);
        var address = s[..slash];
        return IsIPv4(address) ? prefix <= 32 : IsIPv6(address) && prefix <= 128;
    }

    private static bool IsDateTime(string s)
    {
        var m = DateTimePattern().Match(s);
        return m.Success && DateTime.TryParseExact(m.Groups[1].Value + "T" + m.Groups[2].Value, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
    }

    [GeneratedRegex("^([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\\2){4}[0-9a-fA-F]{2}$|^(?:[0-9a-fA-F]{2}([:-])){7}[0-9a-fA-F]{2}$|^(?:[0-9a-fA-F]{4}\\.){2}[0-9a-fA-F]{4}$")]
    private static partial Regex Mac();

    [GeneratedRegex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    private static partial Regex Uuid();

    [GeneratedRegex("^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex DateTimePattern();

    [GeneratedRegex("^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\\.?$")]
    private static partial Regex Hostname();
}
