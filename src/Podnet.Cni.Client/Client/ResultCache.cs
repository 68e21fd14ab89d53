using System.Text.Json.Nodes;

namespace Podnet.Cni.Client;

/// <summary>
/// Final ADD results, one file per attachment: <c>DIR/&lt;network&gt;-&lt;containerID&gt;-&lt;ifname&gt;</c>
/// (libcni's naming), holding the ids next to the result so GC can list attachments.
/// Written to a temporary file and renamed, so a crash never leaves half a result.
/// </summary>
internal sealed class ResultCache(string directory)
{
    public void Save(string network, RuntimeConf runtime, string result)
    {
        Directory.CreateDirectory(directory);
        var entry = new JsonObject
        {
            ["kind"] = "cniCacheV1",
            ["networkName"] = network,
            ["containerId"] = runtime.ContainerId,
            ["ifName"] = runtime.IfName,
            ["netns"] = runtime.NetnsPath,
            ["cniArgs"] = runtime.CniArgs,
            ["result"] = JsonNode.Parse(result),
        };
        var path = PathOf(network, runtime.ContainerId, runtime.IfName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, entry.ToJsonString());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The cached result JSON, or null.</summary>
    public string? Load(string network, string containerId, string ifName)
    {
        var path = PathOf(network, containerId, ifName);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["result"]?.ToJsonString() : null;
    }

    /// <summary>Removes the entry; nothing to do when there is none (a DEL after a failed ADD).</summary>
    public void Delete(string network, string containerId, string ifName)
    {
        var path = PathOf(network, containerId, ifName);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    public IEnumerable<(string ContainerId, string IfName)> Entries(string network)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        return Directory.GetFiles(directory, $"{network}-*")
            .Where(p => !p.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(p => JsonNode.Parse(File.ReadAllText(p)) as JsonObject)
            .Where(e => e is not null && (string?)e["networkName"] == network)
            .Select(e => ((string)e!["containerId"]!, (string)e["ifName"]!))
            .ToArray();
    }

    private string PathOf(string network, string containerId, string ifName) => Path.Combine(directory, $"{network}-{containerId}-{ifName}");
}
