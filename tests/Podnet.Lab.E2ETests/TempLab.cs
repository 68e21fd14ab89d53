using System.Text.Json.Nodes;
using k8s;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A lab for one test, made with the published `podnet lab up` and always taken down on dispose.</summary>
internal sealed class TempLab(string prefix) : IDisposable
{
    private Kubernetes? _client;
    private bool _down;

    public string Name { get; } = prefix + Guid.NewGuid().ToString("N")[..7];

    public JsonNode Status { get; private set; } = null!;

    public LabFixtureView View { get; private set; } = null!;

    public ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(null, RepoPaths.Bin("podnet"), arguments, timeout: TimeSpan.FromMinutes(4));

    /// <summary>`lab up` with <paramref name="arguments"/> (the lab's name is added unless a file names it), then its status and a client; returns what `lab up` printed.</summary>
    public ProcessResult Up(params string[] arguments)
    {
        var up = Run(["lab", "up", .. arguments.Contains("-f") ? arguments : ["--name", Name, .. arguments]]);
        Assert.True(up.Success, up.StandardError);
        Status = JsonNode.Parse(Run("lab", "status", "--name", Name, "-o", "json").StandardOutput)!;
        _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile((string)Status["kubeconfig"]!));
        View = new LabFixtureView(Name, _client);
        return up;
    }

    /// <summary>Takes the lab down; a second call does nothing.</summary>
    public void Dispose()
    {
        if (_down)
        {
            return;
        }
        _down = true;
        _client?.Dispose();
        Run("lab", "down", "--name", Name);
    }
}
