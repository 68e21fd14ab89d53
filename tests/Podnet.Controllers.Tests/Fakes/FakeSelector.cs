using System.Text.Json.Nodes;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>
/// fieldSelector and labelSelector of <see cref="FakeApiServer"/> (a test stand-in): equality
/// and inequality terms only; fields by their JSON path (spec.nodeName, metadata.name…). A
/// watch reports an object that starts matching as ADDED and one that stops as DELETED, as
/// the API server does.
/// </summary>
internal sealed class FakeSelector
{
    private readonly List<(string Path, bool IsLabel, bool Equal, string Value)> _terms = [];

    public static FakeSelector Parse(string? fields, string? labels)
    {
        var selector = new FakeSelector();
        selector.Add(fields, isLabel: false);
        selector.Add(labels, isLabel: true);
        return selector;
    }

    private void Add(string? text, bool isLabel)
    {
        foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var not = term.Contains("!=");
            var parts = term.Split(not ? "!=" : term.Contains("==") ? "==" : "=", 2);
            _terms.Add((parts[0], isLabel, !not, parts[1]));
        }
    }

    public bool Matches(JsonObject? item) => item is not null && _terms.All(t => (Value(item, t) == t.Value) == t.Equal);

    /// <summary>The watch line for a change as this selector's watcher sees it, or null when it sees nothing.</summary>
    public string? Line(FakeEvent change)
    {
        var now = Matches(change.Object);
        var before = change.Previous is not null && Matches(change.Previous);
        var type = change.Type switch
        {
            "DELETED" => now ? "DELETED" : null,
            "MODIFIED" when now && before => "MODIFIED",
            "MODIFIED" when now => "ADDED",
            "MODIFIED" when before => "DELETED",
            "ADDED" => now ? "ADDED" : null,
            _ => null,
        };
        return type is null ? null : new JsonObject { ["type"] = type, ["object"] = change.Object.DeepClone() }.ToJsonString();
    }

    private static string Value(JsonObject item, (string Path, bool IsLabel, bool Equal, string Value) term)
    {
        if (term.IsLabel)
        {
            return (string?)item["metadata"]?["labels"]?[term.Path] ?? "";
        }
        JsonNode? node = item;
        foreach (var part in term.Path.Split('.'))
        {
            node = node?[part];
        }
        return node?.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string?)node ?? "" : node?.ToJsonString() ?? "";
    }
}
