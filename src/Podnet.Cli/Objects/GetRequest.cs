using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// One `podnet get` (without --watch): the path and Accept header it asks for, and what it
/// prints of the answer: tables from the server's Table responses, JSON and YAML as kubectl
/// prints them, kubectl's messages. The full CLI (GetCommand) and the NativeAOT front
/// (src/Podnet.Front) both compile this file, so their output cannot drift.
/// </summary>
internal sealed record GetRequest(ResourceType Resource, string? Name, string? Namespace, bool AllNamespaces, string? Format, string Path)
{
    /// <summary>The request for KIND [NAME] [-n NS | -A] [-o FORMAT] [-l SELECTOR]; -A is ignored with a NAME, as kubectl does.</summary>
    public static GetRequest Of(ResourceType resource, string? name, string ns, bool all, string? format, string? selector)
    {
        var allNamespaces = all && name is null;
        var namespaceName = allNamespaces ? null : ns;
        var path = resource.Path(namespaceName);
        if (name is not null)
        {
            path += "/" + Uri.EscapeDataString(name);
        }
        else if (selector is not null)
        {
            path += "?labelSelector=" + Uri.EscapeDataString(selector);
        }
        return new GetRequest(resource, name, namespaceName, allNamespaces, format, path);
    }

    /// <summary>A table (the default, or -o wide), which the server renders.</summary>
    public bool Table => Format is null or "wide";

    public string Accept => Table ? ApiClient.TableAccept : "application/json";

    /// <summary>Tables of all namespaces start with a NAMESPACE column.</summary>
    public bool WithNamespace => AllNamespaces && Resource.Namespaced;

    /// <summary>Prints the server's answer (<paramref name="status"/>, <paramref name="body"/>) as kubectl does; the exit code.</summary>
    public int Print(int status, JsonNode? body, TextWriter output, TextWriter error)
    {
        if (status == 404 && Name is not null)
        {
            error.WriteLine($"Error from server (NotFound): {Resource.Resource} \"{Name}\" not found");
            return 1;
        }
        if (status >= 400 || body is null)
        {
            error.WriteLine($"Error from server: {(string?)body?["message"] ?? $"HTTP {status}"}");
            return 1;
        }
        if (Table)
        {
            if (body["rows"] is JsonArray { Count: 0 })
            {
                error.WriteLine(AllNamespaces || !Resource.Namespaced ? "No resources found" : $"No resources found in {Namespace} namespace.");
            }
            else
            {
                output.Write(TableText.Format(body, Format == "wide", WithNamespace));
            }
            return 0;
        }
        var items = Name is not null ? [body] : body["items"]!.AsArray().Select(i => i!.DeepClone()).ToArray();
        foreach (var item in items)
        {
            item!["apiVersion"] ??= Resource.Group.Length == 0 ? Resource.Version : $"{Resource.Group}/{Resource.Version}";
            item["kind"] ??= Resource.Kind;
        }
        switch (Format)
        {
            case "name":
                foreach (var item in items)
                {
                    output.WriteLine($"{Resource.Singular}/{item!["metadata"]!["name"]}");
                }
                break;
            case "json":
                output.WriteLine(Json(Name is not null ? items[0]! : ListOf(items)));
                break;
            case "yaml":
                output.Write(Yaml.Write(Name is not null ? items[0]! : ListOf(items)));
                break;
        }
        return 0;
    }

    /// <summary>A v1 List, as kubectl prints several objects.</summary>
    private static JsonObject ListOf(IEnumerable<JsonNode?> items) => new()
    {
        ["apiVersion"] = "v1",
        ["items"] = new JsonArray(items.ToArray()),
        ["kind"] = "List",
        ["metadata"] = new JsonObject { ["resourceVersion"] = "" },
    };

    private static string Json(JsonNode node) =>
        node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
