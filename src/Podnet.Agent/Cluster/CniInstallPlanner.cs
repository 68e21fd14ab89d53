using System.Net;
using Podnet.Agent.Runtime;

namespace Podnet.Agent.Cluster;

/// <summary>One file operation on the host's CNI directories.</summary>
public abstract record CniInstallStep
{
    /// <summary>Copies <paramref name="Source"/> to <paramref name="Path"/> through a temporary file and a rename.</summary>
    public sealed record Copy(string Source, string Path) : CniInstallStep;

    /// <summary>Makes <paramref name="Path"/> a symbolic link to <paramref name="Target"/> (relative), replacing what is there.</summary>
    public sealed record Link(string Path, string Target) : CniInstallStep;

    /// <summary>Writes <paramref name="Content"/> to <paramref name="Path"/> through a temporary file and a rename.</summary>
    public sealed record Write(string Path, string Content) : CniInstallStep;

    public sealed record Remove(string Path) : CniInstallStep;
}

/// <summary>What the host's CNI directories hold now, read by the installer before it plans.</summary>
/// <param name="Files">Regular files by path, with their SHA-256 (hex).</param>
/// <param name="Links">Symbolic links by path, with their target.</param>
/// <param name="ConfigNames">File names in the CNI config directory.</param>
public sealed record CniHostState(
    IReadOnlyDictionary<string, string> Files,
    IReadOnlyDictionary<string, string> Links,
    IReadOnlyList<string> ConfigNames);

/// <summary>Where the plugins come from and go, and what the conflist says.</summary>
public sealed record CniInstallRequest
{
    /// <summary>The directory holding podnet-cni in the agent's image.</summary>
    public required string SourceDirectory { get; init; }

    /// <summary>SHA-256 (hex) of the source podnet-cni, so an unchanged plugin is not copied again.</summary>
    public required string SourceHash { get; init; }

    /// <summary>The host's CNI bin directory as the agent sees it (kubelet's and the runtime's /opt/cni/bin).</summary>
    public required string BinDirectory { get; init; }

    /// <summary>The host's CNI config directory as the agent sees it (/etc/cni/net.d).</summary>
    public required string ConfDirectory { get; init; }

    public required IReadOnlyList<IPNetwork> PodCidrs { get; init; }

    public int Mtu { get; init; }

    /// <summary>podnet-ipam's data directory as a path on the host (the runtime runs the plugin there).</summary>
    public required string IpamDataDirectory { get; init; }
}

/// <summary>The install: the steps to take (none when all is in place) and the configs that would win over Podnet's.</summary>
public sealed record CniInstallPlan(IReadOnlyList<CniInstallStep> Steps, IReadOnlyList<string> ShadowingConfigs);

/// <summary>
/// Plans the agent's install into the host's CNI directories and its removal. Pure: the
/// current state comes in as <see cref="CniHostState"/>, so a restart of an agent whose files
/// are in place plans nothing, and the plans are tested without touching a directory.
/// </summary>
/// <remarks>
/// The conflist is named <see cref="ConfigName"/>: container runtimes take the first config of
/// the directory in name order, so it sorts before the usual 10-*; a config that still sorts
/// before it is reported, not removed (it belongs to someone else). podnet-ipam is a symbolic
/// link to podnet-cni, which acts as the IPAM plugin under that name, so the two never differ
/// in version. The binary goes in by a rename, since a running plugin's file cannot be written.
/// </remarks>
public static class CniInstallPlanner
{
    public const string ConfigName = "05-podnet.conflist";
    public const string PluginName = "podnet-cni";
    public const string IpamName = "podnet-ipam";

    public static CniInstallPlan Install(CniInstallRequest request, CniHostState state)
    {
        var steps = new List<CniInstallStep>();
        var plugin = Path.Combine(request.BinDirectory, PluginName);
        if (!state.Files.TryGetValue(plugin, out var hash) || !string.Equals(hash, request.SourceHash, StringComparison.OrdinalIgnoreCase))
        {
            steps.Add(new CniInstallStep.Copy(Path.Combine(request.SourceDirectory, PluginName), plugin));
        }
        var ipam = Path.Combine(request.BinDirectory, IpamName);
        if (!state.Links.TryGetValue(ipam, out var target) || target != PluginName)
        {
            steps.Add(new CniInstallStep.Link(ipam, PluginName));
        }
        var config = Path.Combine(request.ConfDirectory, ConfigName);
        var content = CniConfigPlanner.Build(request.PodCidrs, request.Mtu, request.IpamDataDirectory) + "\n";
        if (!state.Files.TryGetValue(config, out var configHash) || configHash != Hash(content))
        {
            steps.Add(new CniInstallStep.Write(config, content));
        }
        var shadowing = state.ConfigNames
            .Where(n => IsConfig(n) && string.CompareOrdinal(n, ConfigName) < 0)
            .Order(StringComparer.Ordinal)
            .ToArray();
        return new CniInstallPlan(steps, shadowing);
    }

    /// <summary>Removes the conflist only: the node's network turns not ready; the plugin binaries stay for pods still to be torn down.</summary>
    public static IReadOnlyList<CniInstallStep> Uninstall(string confDirectory, CniHostState state)
    {
        var config = Path.Combine(confDirectory, ConfigName);
        return state.Files.ContainsKey(config) ? [new CniInstallStep.Remove(config)] : [];
    }

    /// <summary>The names libcni loads from a config directory.</summary>
    public static bool IsConfig(string name) =>
        name.EndsWith(".conf", StringComparison.Ordinal) || name.EndsWith(".conflist", StringComparison.Ordinal) || name.EndsWith(".json", StringComparison.Ordinal);

    public static string Hash(string content) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content)));
}
