using System.Text.Json.Nodes;
using Podnet.Kernel;

namespace Podnet.Testing;

/// <summary>
/// The reference tools (iproute2, bridge, nft) run as a second opinion on what Podnet did:
/// tests compare Podnet's own reading of the kernel with theirs.
/// </summary>
public static class Tools
{
    /// <summary><c>ip -j ARGS</c> inside <paramref name="netns"/>, parsed.</summary>
    public static JsonArray Ip(Netns netns, params string[] arguments) => Json(netns, "ip", ["-j", .. arguments]);

    /// <summary><c>bridge -j ARGS</c> inside <paramref name="netns"/>, parsed.</summary>
    public static JsonArray Bridge(Netns netns, params string[] arguments) => Json(netns, "bridge", ["-j", .. arguments]);

    /// <summary>Runs a command inside the namespace and returns its result (it does not throw on failure).</summary>
    public static ProcessResult Run(Netns? netns, string file, params string[] arguments) =>
        ProcessRunner.Run(netns, file, arguments, timeout: TimeSpan.FromSeconds(60));

    private static JsonArray Json(Netns netns, string file, string[] arguments)
    {
        var result = Run(netns, file, arguments);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {result.StandardError}");
        }
        var text = result.StandardOutput.Trim();
        return text.Length == 0 ? [] : JsonNode.Parse(text) as JsonArray ?? [];
    }
}
