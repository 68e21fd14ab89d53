using System.Text.Json.Nodes;
using k8s;

namespace Podnet.Cli.Objects;

/// <summary>Reads -f FILE|DIR|- into JSON objects: multi-document YAML or JSON, a directory's .yaml/.yml/.json files in name order.</summary>
internal static class Manifests
{
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
            foreach (var item in KubernetesYaml.LoadAllFromString(text))
            {
                if (item is not null && JsonNode.Parse(KubernetesJson.Serialize(item)) is JsonObject json)
                {
                    objects.Add(json);
                }
            }
        }
        return objects;
    }
}
