using Podnet.Cni.Spec;
using Podnet.Core.Net;

namespace Podnet.Cni.Config;

/// <summary>The CNI_* variables of one invocation, checked per verb (spec section 2).</summary>
internal sealed record CniEnvironment(
    string Command,
    string ContainerId,
    string? NetnsPath,
    string IfName,
    IReadOnlyDictionary<string, string> Args,
    IReadOnlyList<string> Path)
{
    private static readonly HashSet<string> s_knownArgs =
        ["IgnoreUnknown", "IP", "MAC", "K8S_POD_NAME", "K8S_POD_NAMESPACE", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID"];

    public static CniEnvironment Read(Func<string, string?> get)
    {
        var command = get("CNI_COMMAND");
        if (string.IsNullOrEmpty(command))
        {
            throw Invalid("CNI_COMMAND is not set");
        }
        if (command is not ("ADD" or "DEL" or "CHECK" or "VERSION" or "GC" or "STATUS"))
        {
            throw Invalid($"CNI_COMMAND={command} is not one of ADD, DEL, CHECK, VERSION, GC, STATUS");
        }
        var path = (get("CNI_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        if (command is "VERSION" or "GC" or "STATUS")
        {
            return new CniEnvironment(command, "", null, "", new Dictionary<string, string>(), path);
        }
        var containerId = get("CNI_CONTAINERID");
        if (string.IsNullOrEmpty(containerId))
        {
            throw Invalid("CNI_CONTAINERID is not set");
        }
        if (!IsValidContainerId(containerId))
        {
            throw Invalid($"CNI_CONTAINERID={containerId} must start with a letter or digit and contain only letters, digits, '_', '.' and '-'");
        }
        var ifName = get("CNI_IFNAME");
        if (string.IsNullOrEmpty(ifName))
        {
            throw Invalid("CNI_IFNAME is not set");
        }
        if (!LinkNames.IsValid(ifName))
        {
            throw Invalid($"CNI_IFNAME={ifName} is not a valid interface name (1-15 characters, no '/', ':' or spaces)");
        }
        var netns = get("CNI_NETNS");
        if (command is "ADD" or "CHECK")
        {
            if (string.IsNullOrEmpty(netns))
            {
                throw Invalid($"CNI_NETNS is not set (required for {command})");
            }
            if (!netns.StartsWith('/'))
            {
                throw Invalid($"CNI_NETNS={netns} is not an absolute path");
            }
        }
        return new CniEnvironment(command, containerId, string.IsNullOrEmpty(netns) ? null : netns, ifName, ParseArgs(get("CNI_ARGS")), path);
    }

    /// <summary>CNI_ARGS: "K=V;K2=V2". Unknown keys are refused (code 2) unless IgnoreUnknown is true.</summary>
    public static Dictionary<string, string> ParseArgs(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(text))
        {
            return result;
        }
        foreach (var pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                throw Invalid($"CNI_ARGS entry '{pair}' is not KEY=VALUE");
            }
            result[pair[..eq]] = pair[(eq + 1)..];
        }
        var ignoreUnknown = result.TryGetValue("IgnoreUnknown", out var ignore) && (ignore is "1" || ignore.Equals("true", StringComparison.OrdinalIgnoreCase));
        var unknown = result.Keys.FirstOrDefault(k => !s_knownArgs.Contains(k));
        if (unknown is not null && !ignoreUnknown)
        {
            throw new CniException(CniErrorCode.UnsupportedField, $"CNI_ARGS key {unknown}={result[unknown]} is not supported (add IgnoreUnknown=1 to ignore it)");
        }
        return result;
    }

    public static bool IsValidContainerId(string id) =>
        id.Length > 0 && char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidEnvironment, message);
}
