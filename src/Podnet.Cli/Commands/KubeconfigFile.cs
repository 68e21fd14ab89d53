using System.Diagnostics.CodeAnalysis;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Serialization;

namespace Podnet.Cli.Commands;

/// <summary>
/// Loads a kubeconfig file into a client configuration, as
/// <c>KubernetesClientConfiguration.BuildConfigFromConfigFile</c> does, for a fraction of its CPU.
/// </summary>
/// <remarks>
/// KubernetesClient reads kubeconfig files through its KubernetesYaml class, whose static
/// constructor reflects over every Kubernetes model type to build YAML name overrides: about
/// 0.35 s of CPU in every process that loads a kubeconfig (measured with dotnet-trace on
/// <c>podnet get</c>, which spent 0.39 s of its 0.9 s there). A lab runs a dozen such processes
/// on two cores and its scripts start hundreds of CLI commands. The kubeconfig's own model types
/// carry their YAML names as attributes, so a plain YamlDotNet deserializer reads them; the file
/// name is kept so that relative certificate paths resolve as before.
/// </remarks>
internal static class KubeconfigFile
{
    private static readonly IDeserializer s_yaml = Build();

    public static KubernetesClientConfiguration Load(string path, string? context = null)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new KubeConfigException($"kubeconfig file not found at {file.FullName}");
        }
        K8SConfiguration config;
        using (var reader = file.OpenText())
        {
            config = s_yaml.Deserialize<K8SConfiguration?>(reader) ?? throw new KubeConfigException($"kubeconfig file {file.FullName} is empty");
        }
        config.FileName = file.FullName;
        return KubernetesClientConfiguration.BuildConfigFromConfigObject(config, context);
    }

    // The podnet command is published with the JIT (ReadyToRun), never trimmed or compiled ahead
    // of time, and KubernetesClient's own loader reflects over these same types.
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "podnet is not published as NativeAOT")]
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "podnet is not trimmed")]
    private static IDeserializer Build() => new DeserializerBuilder().IgnoreUnmatchedProperties().Build();
}
