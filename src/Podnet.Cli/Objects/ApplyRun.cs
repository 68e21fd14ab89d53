using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// `podnet apply -f SOURCE` once the cluster is known: reads the manifests, then creates or
/// three-way patches each object, printing kubectl's lines. The full CLI (ObjectCommands) and
/// the NativeAOT front (src/Podnet.Front) both compile this file, so they cannot drift.
/// </summary>
internal static class ApplyRun
{
    /// <summary>The field manager of `podnet apply`'s writes, as kubectl's are "kubectl-client-side-apply".</summary>
    private const string FieldManager = "podnet-client-side-apply";

    /// <summary>
    /// Applies <paramref name="source"/> (a file, a directory or - for stdin), objects naming no
    /// namespace going to <paramref name="defaultNamespace"/>; the exit code. The client is made
    /// (<paramref name="connect"/>, which reads the kubeconfig) once the manifests have been read.
    /// </summary>
    public static async Task<int> RunAsync(Func<ApiClient> connect, string source, string defaultNamespace, CancellationToken token)
    {
        if (!Manifests.TryRead(source, out var manifests))
        {
            return 1;
        }
        if (manifests.Count == 0)
        {
            Console.Error.WriteLine("error: no objects passed to apply");
            return 1;
        }
        using var api = connect();
        var failed = false;
        foreach (var obj in manifests)
        {
            if (Manifests.Problem(obj) is { } problem)
            {
                Console.Error.WriteLine($"error: error validating \"{source}\": error validating data: {problem}");
                failed = true;
                continue;
            }
            if (ResourceMap.Find((string)obj["kind"]!) is not { } resource)
            {
                Console.Error.WriteLine($"error: resource mapping not found for kind \"{obj["kind"]}\"");
                failed = true;
                continue;
            }
            var name = (string)obj["metadata"]!["name"]!;
            var namespaceName = resource.Namespaced ? obj["metadata"]!["namespace"] as JsonValue is { } given && given.TryGetValue<string>(out var text) ? text : defaultNamespace : null;
            if (namespaceName is not null)
            {
                obj["metadata"]!["namespace"] = namespaceName;
            }
            var modified = ApplyPatch.Annotate(obj);
            var path = $"{resource.Path(namespaceName)}/{Uri.EscapeDataString(name)}";
            var (status, live) = await api.GetAsync(path, token: token);
            string verb;
            int code;
            JsonNode? answer;
            if (status == 404)
            {
                (code, answer) = await api.SendAsync(HttpMethod.Post, $"{resource.Path(namespaceName)}?fieldManager={FieldManager}", modified, token: token);
                verb = "created";
            }
            else
            {
                if (ApplyPatch.Build(modified, (JsonObject)live!) is not { } patch)
                {
                    Console.WriteLine($"{resource.Singular}/{name} unchanged");
                    continue;
                }
                (code, answer) = await api.SendAsync(HttpMethod.Patch, $"{path}?fieldManager={FieldManager}", patch, ApplyPatch.ContentType, token);
                verb = "configured";
            }
            if (code >= 400)
            {
                Console.Error.WriteLine($"Error from server ({answer?["reason"]}): {answer?["message"]}");
                failed = true;
                continue;
            }
            Console.WriteLine($"{resource.Singular}/{name} {verb}");
        }
        return failed ? 1 : 0;
    }
}
