using System.Text.Json.Nodes;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Client;

/// <summary>
/// Runs a conflist chain as a runtime does (spec section 3; the libcni role): ADD in order with
/// prevResult, DEL in reverse with the cached final result, CHECK with it, GC and STATUS for
/// 1.1 networks. Results are cached in <paramref name="cacheDirectory"/> so a DEL after a
/// restart still has its prevResult.
/// </summary>
public sealed class CniClient(IReadOnlyList<string> pluginPaths, string cacheDirectory)
{
    private readonly ResultCache _cache = new(cacheDirectory);

    public TimeSpan PluginTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>ADD through the chain; returns the final result (raw, and parsed).</summary>
    public (string Json, CniResult Result) Add(NetworkConfigList network, RuntimeConf runtime)
    {
        JsonNode? previous = null;
        string output = "";
        foreach (var plugin in network.Plugins)
        {
            output = Exec("ADD", network, plugin, runtime, previous);
            previous = JsonNode.Parse(output);
        }
        _cache.Save(network.Name, runtime, output);
        return (output, ResultConverter.Parse(output));
    }

    /// <summary>DEL in reverse order with the cached result; the cache entry goes once every plugin succeeded.</summary>
    public void Del(NetworkConfigList network, RuntimeConf runtime)
    {
        var cached = _cache.Load(network.Name, runtime.ContainerId, runtime.IfName);
        var previous = cached is null ? null : JsonNode.Parse(cached);
        for (var i = network.Plugins.Count - 1; i >= 0; i--)
        {
            Exec("DEL", network, network.Plugins[i], runtime, previous);
        }
        _cache.Delete(network.Name, runtime.ContainerId, runtime.IfName);
    }

    /// <summary>CHECK in order with the cached result; nothing when disableCheck or below 0.4.0.</summary>
    public void Check(NetworkConfigList network, RuntimeConf runtime)
    {
        if (network.DisableCheck || !CniVersion.AtLeast(network.CniVersion, "0.4.0"))
        {
            return;
        }
        var cached = _cache.Load(network.Name, runtime.ContainerId, runtime.IfName)
            ?? throw new CniException(CniErrorCode.UnknownContainer, $"no cached ADD result for {runtime.ContainerId}/{runtime.IfName} in network {network.Name}");
        var previous = JsonNode.Parse(cached);
        foreach (var plugin in network.Plugins)
        {
            Exec("CHECK", network, plugin, runtime, previous);
        }
    }

    /// <summary>
    /// GC as libcni does: a DEL for every cached attachment not in <paramref name="valid"/>,
    /// then GC to every plugin (1.1 networks without disableGC), continuing past errors.
    /// </summary>
    public void Gc(NetworkConfigList network, IReadOnlyList<CniAttachment> valid)
    {
        var errors = new List<string>();
        var keep = valid.Select(a => (a.ContainerId, a.IfName)).ToHashSet();
        foreach (var (containerId, ifName) in _cache.Entries(network.Name))
        {
            if (keep.Contains((containerId, ifName)))
            {
                continue;
            }
            try
            {
                Del(network, new RuntimeConf(containerId, null, ifName));
            }
            catch (CniException e)
            {
                errors.Add($"DEL {containerId}/{ifName}: {e.Message}");
            }
        }
        if (CniVersion.AtLeast(network.CniVersion, "1.1.0") && !network.DisableGc)
        {
            var list = new JsonArray(valid.Select(a => (JsonNode)new JsonObject { ["containerID"] = a.ContainerId, ["ifname"] = a.IfName }).ToArray());
            foreach (var plugin in network.Plugins)
            {
                var config = Inject(network, plugin, null, null);
                config["cni.dev/valid-attachments"] = list.DeepClone();
                config["cni.dev/attachments"] = list.DeepClone();
                try
                {
                    Run("GC", plugin, config, new RuntimeConf("", null, ""));
                }
                catch (CniException e)
                {
                    errors.Add($"GC {(string?)plugin["type"]}: {e.Message}");
                }
            }
        }
        if (errors.Count > 0)
        {
            throw new CniException(CniErrorCode.Internal, $"GC of network {network.Name}: {string.Join("; ", errors)}");
        }
    }

    /// <summary>STATUS of every plugin (1.1 networks only); the first failure is thrown with its code (50/51).</summary>
    public void Status(NetworkConfigList network)
    {
        if (!CniVersion.AtLeast(network.CniVersion, "1.1.0"))
        {
            return;
        }
        foreach (var plugin in network.Plugins)
        {
            Run("STATUS", plugin, Inject(network, plugin, null, null), new RuntimeConf("", null, ""));
        }
    }

    private string Exec(string command, NetworkConfigList network, JsonObject plugin, RuntimeConf runtime, JsonNode? previous) =>
        Run(command, plugin, Inject(network, plugin, runtime, previous), runtime);

    private string Run(string command, JsonObject plugin, JsonObject config, RuntimeConf runtime)
    {
        var binary = PluginExecutor.Find((string)plugin["type"]!, pluginPaths);
        var environment = new Dictionary<string, string?>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = runtime.ContainerId,
            ["CNI_NETNS"] = runtime.NetnsPath ?? "",
            ["CNI_IFNAME"] = runtime.IfName,
            ["CNI_ARGS"] = runtime.CniArgs ?? "",
            ["CNI_PATH"] = string.Join(':', pluginPaths),
        };
        return PluginExecutor.Run(binary, environment, config.ToJsonString(), PluginTimeout);
    }

    /// <summary>The plugin's stdin: its object plus cniVersion, name, runtimeConfig and prevResult (spec section 3).</summary>
    internal static JsonObject Inject(NetworkConfigList network, JsonObject plugin, RuntimeConf? runtime, JsonNode? previous)
    {
        var config = (JsonObject)plugin.DeepClone();
        config["cniVersion"] = network.CniVersion;
        config["name"] = network.Name;
        var capabilities = config["capabilities"] as JsonObject;
        config.Remove("capabilities");
        if (runtime?.CapabilityArgs is { Count: > 0 } args && capabilities is not null)
        {
            var runtimeConfig = new JsonObject();
            foreach (var (key, value) in args)
            {
                if ((bool?)capabilities[key] == true)
                {
                    runtimeConfig[key] = value.DeepClone();
                }
            }
            if (runtimeConfig.Count > 0)
            {
                config["runtimeConfig"] = runtimeConfig;
            }
        }
        if (previous is not null)
        {
            config["prevResult"] = previous.DeepClone();
        }
        return config;
    }
}
