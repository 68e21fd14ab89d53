using System.Text.RegularExpressions;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// Kubernetes' name and label syntax rules, with apimachinery's messages (null = valid).
/// </summary>
internal static partial class Names
{
    private const string Dns1123LabelHint = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string Dns1123SubdomainHint = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string Dns1035LabelHint = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    private const string QualifiedNameHint = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    private const string LabelValueHint = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    public static string? Dns1123LabelError(string value) =>
        value.Length > 63 ? "must be no more than 63 characters" : Dns1123Label().IsMatch(value) ? null : Dns1123LabelHint;

    public static string? Dns1123SubdomainError(string value) =>
        value.Length > 253 ? "must be no more than 253 characters" : Dns1123Subdomain().IsMatch(value) ? null : Dns1123SubdomainHint;

    public static string? Dns1035LabelError(string value) =>
        value.Length > 63 ? "must be no more than 63 characters" : Dns1035Label().IsMatch(value) ? null : Dns1035LabelHint;

    /// <summary>A label or annotation key: an optional DNS subdomain prefix and a qualified name.</summary>
    public static string? LabelKeyError(string key)
    {
        var slash = key.IndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0)
            {
                return "prefix part must be non-empty";
            }
            if (Dns1123SubdomainError(prefix) is { } prefixError)
            {
                return "prefix part " + prefixError;
            }
        }
        if (name.Length == 0)
        {
            return "name part must be non-empty";
        }
        if (name.Length > 63)
        {
            return "name part must be no more than 63 characters";
        }
        return QualifiedName().IsMatch(name) ? null : QualifiedNameHint;
    }

    public static string? LabelValueError(string value) =>
        value.Length > 63 ? "must be no more than 63 characters" : LabelValue().IsMatch(value) ? null : LabelValueHint;

    /// <summary>An IANA service name, as a named port: at most 15 characters, letters and digits and '-'.</summary>
    public static string? PortNameError(string value)
    {
        if (value.Length > 15)
        {
            return "must be no more than 15 characters";
        }
        if (!PortName().IsMatch(value))
        {
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        }
        if (!value.Any(char.IsAsciiLetter))
        {
            return "must contain at least one letter (a-z)";
        }
        return value.Contains("--", StringComparison.Ordinal) ? "must not contain consecutive hyphens" : null;
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[-a-z0-9]+$")]
    private static partial Regex PortName();
}
