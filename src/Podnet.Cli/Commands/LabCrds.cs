using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.Cli.Commands;

/// <summary>
/// Installs the CustomResourceDefinitions under deploy/crds/ (embedded in this binary):
/// ClusterNetworkPolicy, as any cluster running a policy implementation has it. An existing
/// definition is brought to the file's spec.
/// </summary>
/// <remarks>
/// The YAML goes to the API server as JSON through the generic custom-object calls rather than
/// KubernetesClient's V1CustomResourceDefinition, whose JSONSchemaProps holds items, defaults
/// and enums as plain objects that do not survive a YAML → model → JSON round trip.
/// </remarks>
internal static class LabCrds
{
    private const string Group = "apiextensions.k8s.io";
    private const string Version = "v1";
    private const string Plural = "customresourcedefinitions";

    public static readonly string[] Files = ["clusternetworkpolicies.yaml"];

    public static async Task EnsureAsync(IKubernetes client, CancellationToken token)
    {
        foreach (var file in Files)
        {
            var crd = Read(file);
            var name = (string?)crd["metadata"]?["name"] ?? throw new InvalidOperationException($"deploy/crds/{file} has no metadata.name");
            try
            {
                await client.CustomObjects.CreateClusterCustomObjectAsync(crd, Group, Version, Plural, cancellationToken: token);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                var patch = new JsonObject { ["spec"] = crd["spec"]!.DeepClone() };
                await client.CustomObjects.PatchClusterCustomObjectAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), Group, Version, Plural, name, cancellationToken: token);
            }
        }
    }

    /// <summary>One embedded definition as JSON.</summary>
    public static JsonObject Read(string file)
    {
        using var stream = typeof(LabCrds).Assembly.GetManifestResourceStream($"Podnet.deploy.crds.{file}")
            ?? throw new InvalidOperationException($"deploy/crds/{file} is not embedded in podnet");
        using var reader = new StreamReader(stream);
        return Podnet.ApiServer.Http.YamlToJson.Documents(reader.ReadToEnd()).Single() as JsonObject
            ?? throw new InvalidOperationException($"deploy/crds/{file} is not one object");
    }
}
