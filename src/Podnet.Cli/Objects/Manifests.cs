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

    /// <summary>
    /// What kubectl's client-side validation says of an object before it is sent (apiVersion,
    /// kind and metadata.name present, as strings), or null when it may be sent.
    /// </summary>
    public static string? Problem(JsonObject obj)
    {
        static bool IsText(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0;
        if (!IsText(obj["apiVersion"]))
        {
            return "apiVersion not set";
        }
        if (!IsText(obj["kind"]))
        {
            return "kind not set";
        }
        if (obj["metadata"] is not JsonObject metadata)
        {
            return "metadata not set";
        }
        if (!IsText(metadata["name"]))
        {
            return "metadata.name: resource name may not be empty";
        }
        return metadata["namespace"] is null or JsonValue ? null : "metadata.namespace: must be a string";
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
            foreach (var obj in Podnet.ApiServer.Http.Bodies.YamlDocuments(text).OfType<JsonObject>())
            {
                // A List (kind: List, or any *List with items) stands for its items, as kubectl reads it.
                if (obj["kind"] is JsonValue kind && kind.TryGetValue<string>(out var name) && name.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray items)
                {
                    objects.AddRange(items.OfType<JsonObject>().Select(item => (JsonObject)item.DeepClone()));
                }
                else
                {
                    objects.Add(obj);
                }
            }
        }
        return objects;
    }
}
