using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>
/// The default roles and bindings kube-apiserver creates at start (its RBAC post-start hook),
/// read from bootstrap-policy.txt (the format is described at its top). Missing ones are created
/// at every start; existing ones are left as they are, so an administrator's edits stay.
/// </summary>
internal static class BootstrapPolicy
{
    private const string Group = "rbac.authorization.k8s.io";

    private static readonly Lazy<(List<JsonObject> Roles, List<JsonObject> Bindings)> Parsed = new(() => Parse(Read()));

    public static IReadOnlyList<JsonObject> ClusterRoles => Parsed.Value.Roles;

    public static IReadOnlyList<JsonObject> ClusterRoleBindings => Parsed.Value.Bindings;

    public static Task EnsureAsync(ResourceService service) =>
        service.Store.WriteAsync(txn =>
        {
            foreach (var role in ClusterRoles)
            {
                if (txn.Get(ResourceCatalog.ClusterRoles.Key, "", role.Name()) is null)
                {
                    service.Create(txn, ResourceCatalog.ClusterRoles, null, role);
                }
            }
            foreach (var binding in ClusterRoleBindings)
            {
                if (txn.Get(ResourceCatalog.ClusterRoleBindings.Key, "", binding.Name()) is null)
                {
                    service.Create(txn, ResourceCatalog.ClusterRoleBindings, null, binding);
                }
            }
            return 0;
        });

    internal static (List<JsonObject> Roles, List<JsonObject> Bindings) Parse(string text)
    {
        var roles = new List<JsonObject>();
        var bindings = new List<JsonObject>();
        JsonObject? role = null;
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words[0])
            {
                case "clusterrole":
                    role = Object("ClusterRole", words[1], words[2..]);
                    roles.Add(role);
                    break;
                case "rule" when role is not null:
                    ((JsonArray)(role["rules"] ??= new JsonArray())).Add((JsonNode)Rule(words[1..], number));
                    break;
                case "aggregate" when role is not null:
                    var selectors = (JsonArray)((JsonObject)(role["aggregationRule"] ??= new JsonObject { ["clusterRoleSelectors"] = new JsonArray() }))["clusterRoleSelectors"]!;
                    var (key, value) = Pair(words[1], number);
                    selectors.Add((JsonNode)new JsonObject { ["matchLabels"] = new JsonObject { [key] = value } });
                    role["rules"] ??= new JsonArray();
                    break;
                case "binding":
                    var binding = Object("ClusterRoleBinding", words[1], []);
                    binding["roleRef"] = new JsonObject { ["apiGroup"] = Group, ["kind"] = "ClusterRole", ["name"] = words[2] };
                    if (words.Length > 3)
                    {
                        binding["subjects"] = new JsonArray(words[3..].Select(w => (JsonNode)SubjectOf(w, number)).ToArray());
                    }
                    bindings.Add(binding);
                    break;
                default:
                    throw new FormatException($"bootstrap-policy.txt line {number}: '{line}' is not a clusterrole, rule, aggregate or binding line");
            }
        }
        return (roles, bindings);
    }

    private static JsonObject Object(string kind, string name, string[] labels)
    {
        var labelMap = new JsonObject { ["kubernetes.io/bootstrapping"] = "rbac-defaults" };
        foreach (var label in labels)
        {
            var (k, v) = Pair(label, 0);
            labelMap[k] = v;
        }
        return new JsonObject
        {
            ["apiVersion"] = $"{Group}/v1",
            ["kind"] = kind,
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = labelMap,
                ["annotations"] = new JsonObject { ["rbac.authorization.kubernetes.io/autoupdate"] = "true" },
            },
        };
    }

    private static JsonObject Rule(string[] fields, int number)
    {
        var rule = new JsonObject();
        foreach (var field in fields)
        {
            var (key, value) = Pair(field, number);
            var name = key switch
            {
                "verbs" => "verbs",
                "groups" => "apiGroups",
                "resources" => "resources",
                "names" => "resourceNames",
                "urls" => "nonResourceURLs",
                _ => throw new FormatException($"bootstrap-policy.txt line {number}: unknown rule field '{key}'"),
            };
            rule[name] = new JsonArray(value.Split(',').Select(v => (JsonNode)JsonValue.Create(key == "groups" && v == "-" ? "" : v)).ToArray());
        }
        return rule;
    }

    private static JsonObject SubjectOf(string word, int number)
    {
        var colon = word.IndexOf(':');
        var (kind, name) = colon > 0 ? (word[..colon], word[(colon + 1)..]) : throw new FormatException($"bootstrap-policy.txt line {number}: subject '{word}' is not Kind:name");
        if (kind == "ServiceAccount")
        {
            var slash = name.IndexOf('/');
            return new JsonObject { ["kind"] = kind, ["name"] = name[(slash + 1)..], ["namespace"] = name[..slash] };
        }
        return new JsonObject { ["apiGroup"] = Group, ["kind"] = kind, ["name"] = name };
    }

    private static (string Key, string Value) Pair(string text, int number)
    {
        var eq = text.IndexOf('=');
        return eq > 0 ? (text[..eq], text[(eq + 1)..]) : throw new FormatException($"bootstrap-policy.txt line {number}: '{text}' is not KEY=VALUE");
    }

    private static string Read()
    {
        using var stream = typeof(BootstrapPolicy).Assembly.GetManifestResourceStream("Podnet.ApiServer.bootstrap-policy.txt")
            ?? throw new InvalidOperationException("bootstrap-policy.txt is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
