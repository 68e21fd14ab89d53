using System.Text.Json.Nodes;
using Podnet.Kernel;

namespace Podnet.Cni.IntegrationTests.Infrastructure;

/// <summary>
/// A node namespace (where the plugin runs, so the bridge and its rules land there, never in
/// the root namespace), pod namespaces, and a temp directory for the IPAM store. The plugin is
/// executed as a runtime does: CNI_* in the environment, the configuration on stdin.
/// </summary>
internal sealed class CniLab : IDisposable
{
    private readonly NetnsScope _scope = new();

    public CniLab()
    {
        Node = _scope.Create("node");
        Directory.CreateDirectory(Dir);
    }

    public TestNamespace Node { get; }

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pn-cni-it-" + Guid.NewGuid().ToString("N")[..10]);

    public string DataDir => Path.Combine(Dir, "ipam");

    public TestNamespace NewPod(string label = "pod") => _scope.Create(label);

    /// <summary>The lab's configuration shape: bridge pn0, gateway, hairpin, no masquerade, podnet-ipam.</summary>
    public string Conf(string version = "1.0.0", string extra = "", string ranges = """[[{"subnet":"10.99.0.0/24"}]]""", string ipamExtra = "", string ipamType = "podnet-ipam", string name = "t") =>
        $$$"""
        {"cniVersion":"{{{version}}}","name":"{{{name}}}","type":"podnet-cni","bridge":"pn0","isGateway":true,"hairpinMode":true,"ipMasq":false{{{extra}}},
         "ipam":{"type":"{{{ipamType}}}","ranges":{{{ranges}}},"dataDir":"{{{DataDir}}}"{{{ipamExtra}}}}}
        """;

    /// <summary>Runs the plugin in the node namespace. A null value leaves the variable out.</summary>
    public CniOutcome Run(string command, string stdin, string? containerId = null, string? netns = null, string? ifName = "eth0",
        string? args = null, string? path = null, string? binary = null, Dictionary<string, string?>? overrides = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_NETNS"] = netns,
            ["CNI_IFNAME"] = ifName,
            ["CNI_ARGS"] = args,
            ["CNI_PATH"] = path ?? $"{PluginBinary.Directory}:/usr/lib/cni",
        };
        foreach (var (k, v) in overrides ?? [])
        {
            env[k] = v;
        }
        var arguments = env.Where(e => e.Value is not null).Select(e => $"{e.Key}={e.Value}").Append(binary ?? PluginBinary.Cni).ToArray();
        var result = ProcessRunner.Run(Node.Netns, "env", arguments, stdin, TimeSpan.FromSeconds(60));
        return new CniOutcome(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>ADD for <paramref name="pod"/> that must succeed.</summary>
    public JsonObject Add(TestNamespace pod, string conf, string containerId, string ifName = "eth0")
    {
        var outcome = Run("ADD", conf, containerId, pod.Netns.Path, ifName);
        return outcome.Ok();
    }

    public void Del(TestNamespace? pod, string conf, string containerId, string ifName = "eth0") =>
        Run("DEL", conf, containerId, pod?.Netns.Path ?? "", ifName).Ok();

    public static string WithPrevResult(string conf, JsonNode result)
    {
        var node = JsonNode.Parse(conf)!.AsObject();
        node["prevResult"] = result.DeepClone();
        return node.ToJsonString();
    }

    public static string With(string conf, string key, JsonNode value)
    {
        var node = JsonNode.Parse(conf)!.AsObject();
        node[key] = value;
        return node.ToJsonString();
    }

    /// <summary>Reserved addresses in the store (file names that are addresses).</summary>
    public string[] Reservations(string network = "t") =>
        Directory.Exists(Path.Combine(DataDir, network))
            ? Directory.GetFiles(Path.Combine(DataDir, network)).Select(p => Path.GetFileName(p)).Where(n => System.Net.IPAddress.TryParse(n, out _)).Order().ToArray()
            : [];

    public ProcessResult Exec(TestNamespace ns, params string[] command) => Tools.Run(ns.Netns, command[0], command[1..]);

    public void Dispose()
    {
        _scope.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record CniOutcome(int ExitCode, string Stdout, string Stderr)
{
    public JsonObject Ok()
    {
        Assert.True(ExitCode == 0, $"plugin failed (exit {ExitCode}): {Stdout} {Stderr}");
        return Stdout.Trim().Length == 0 ? new JsonObject() : JsonNode.Parse(Stdout)!.AsObject();
    }

    /// <summary>The error JSON of a failed call; asserts the spec's shape.</summary>
    public JsonObject Error(int code)
    {
        Assert.True(ExitCode != 0, $"plugin succeeded but code {code} was expected: {Stdout}");
        var error = JsonNode.Parse(Stdout)!.AsObject();
        Assert.Equal(code, (int)error["code"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["msg"]));
        Assert.NotNull((string?)error["cniVersion"]);
        return error;
    }
}
