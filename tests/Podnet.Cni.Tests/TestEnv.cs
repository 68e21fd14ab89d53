using Podnet.Cni.Config;

namespace Podnet.Cni.Tests;

internal static class TestEnv
{
    public static CniEnvironment Of(string command = "ADD", string containerId = "c1", string ifName = "eth0", string? netns = "/run/netns/x", string? args = null) =>
        CniEnvironment.Read(k => k switch
        {
            "CNI_COMMAND" => command,
            "CNI_CONTAINERID" => containerId,
            "CNI_IFNAME" => ifName,
            "CNI_NETNS" => netns,
            "CNI_ARGS" => args,
            "CNI_PATH" => "/opt/cni/bin:/usr/lib/cni",
            _ => null,
        });

    public static PluginConfig Parse(string json, CniEnvironment? env = null) =>
        NetConfParser.Parse(NetConfParser.Decode(json), env ?? Of());

    /// <summary>A temp directory for an IPAM store, removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pn-cni-test-" + Guid.NewGuid().ToString("N")[..10]);

        public TempDir() => Directory.CreateDirectory(Path);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
