using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Client;

/// <summary>
/// A network configuration list (.conflist; a single-plugin .conf is wrapped into one). Plugin
/// objects stay raw JSON: unknown keys must reach the plugin unchanged (spec section 1).
/// </summary>
public sealed class NetworkConfigList
{
    private NetworkConfigList(string name, string cniVersion, bool disableCheck, bool disableGc, IReadOnlyList<JsonObject> plugins)
    {
        Name = name;
        CniVersion = cniVersion;
        DisableCheck = disableCheck;
        DisableGc = disableGc;
        Plugins = plugins;
    }

    public string Name { get; }

    /// <summary>The version used for every plugin: the highest of cniVersion and cniVersions that Podnet speaks.</summary>
    public string CniVersion { get; }

    public bool DisableCheck { get; }

    public bool DisableGc { get; }

    public IReadOnlyList<JsonObject> Plugins { get; }

    public static NetworkConfigList Load(string path) => Parse(File.ReadAllText(path), path);

    public static NetworkConfigList Parse(string json, string source = "network configuration")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw Invalid(source, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"{source} is not valid JSON: {e.Message}");
        }
        var name = (string?)root["name"] ?? throw Invalid(source, "has no name");
        var versions = new List<string?> { (string?)root["cniVersion"] };
        if (root["cniVersions"] is JsonArray list)
        {
            versions.AddRange(list.Select(v => (string?)v));
        }
        var version = Spec.CniVersion.Highest(versions)
            ?? throw new CniException(CniErrorCode.IncompatibleVersion, $"{source}: none of the versions {string.Join(", ", versions.Where(v => v is not null))} is supported");
        IReadOnlyList<JsonObject> plugins;
        if (root["plugins"] is JsonArray array)
        {
            plugins = array.Select((p, i) => p as JsonObject ?? throw Invalid(source, $"plugins[{i}] is not an object")).ToArray();
        }
        else if (root["type"] is not null)
        {
            var single = (JsonObject)root.DeepClone();
            plugins = [single];
        }
        else
        {
            throw Invalid(source, "has neither plugins nor type");
        }
        if (plugins.Count == 0)
        {
            throw Invalid(source, "has an empty plugins list");
        }
        foreach (var (plugin, i) in plugins.Select((p, i) => (p, i)))
        {
            if (plugin["type"] is not JsonValue type || ((string?)type) is not { Length: > 0 })
            {
                throw Invalid(source, $"plugins[{i}] has no type");
            }
        }
        return new NetworkConfigList(name, version, (bool?)root["disableCheck"] ?? false, (bool?)root["disableGC"] ?? false, plugins);
    }

    private static CniException Invalid(string source, string what) => new(CniErrorCode.InvalidConfig, $"{source} {what}");
}

/// <summary>One attachment as the runtime sees it.</summary>
/// <param name="CapabilityArgs">Runtime values for capabilities (portMappings, bandwidth, mac, ips…); each plugin gets those it declares.</param>
public sealed record RuntimeConf(
    string ContainerId,
    string? NetnsPath,
    string IfName,
    string? CniArgs = null,
    IReadOnlyDictionary<string, JsonNode>? CapabilityArgs = null);
