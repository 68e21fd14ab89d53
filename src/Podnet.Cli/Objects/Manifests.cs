using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>Reads -f FILE|DIR|- into JSON objects: multi-document YAML or JSON, a directory's .yaml/.yml/.json files in name order.</summary>
internal static class Manifests
{
    /// <summary>
    /// <see cref="Read"/>, with a manifest that is not YAML (or over the reader's bounds: 500
    /// levels, goyaml's alias budget, 3 MiB a document) reported as kubectl does, "error: error
    /// parsing FILE: …", instead of thrown.
    /// </summary>
    public static bool TryRead(string source, out IReadOnlyList<JsonObject> objects)
    {
        try
        {
            objects = Read(source);
            return true;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            Console.Error.WriteLine($"error: error parsing {source}: error converting YAML to JSON: {e.Message}");
            objects = [];
            return false;
        }
    }

    public static IReadOnlyList<JsonObject> Read(string source)
    {
        var texts = source == "-"
            ? [Console.In.ReadToEnd()]
            : Directory.Exists(source)
                ? Directory.GetFiles(source).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray()
                : [File.ReadAllText(source)];
        var objects = new List<JsonObject>();
        foreach (var text in texts)
        {
            // Straight from YAML to JSON, as kubectl does: every field the manifest has goes to
            // the server (which warns about or, with Strict, refuses unknown ones), and no typed
            // model is built (KubernetesYaml's start-up was 60% of `podnet apply`'s CPU).
            objects.AddRange(Podnet.ApiServer.Http.Bodies.YamlDocuments(text).OfType<JsonObject>());
        }
        return objects;
    }
}
