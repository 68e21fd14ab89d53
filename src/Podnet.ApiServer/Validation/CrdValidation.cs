using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Validation;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinitions as apiextensions-apiserver takes them:
/// defaults, validation (names, scope, versions, structural schemas, printer columns,
/// conversion, subresources) and the status its naming and establishing controllers write.
/// </summary>
/// <remarks>
/// Upstream's controllers set NamesAccepted and Established a moment after the write; here
/// they are set inside the write itself (names checked against every other CRD of the group
/// and the built-in resources), so a CRD whose names are accepted is served as soon as its
/// create returns. The status is the server's: what a client writes there is replaced.
/// </remarks>
internal static class CrdValidation
{
    private static readonly string[] ColumnTypes = ["integer", "number", "string", "boolean", "date"];
    private static readonly string[] SchemaTypes = ["array", "boolean", "integer", "number", "object", "string"];

    public static void Default(JsonObject crd)
    {
        var spec = crd.Child("spec");
        var names = spec.Child("names");
        if ((string?)names["kind"] is { Length: > 0 } kind)
        {
            if ((string?)names["singular"] is not { Length: > 0 })
            {
                names["singular"] = kind.ToLowerInvariant();
            }
            if ((string?)names["listKind"] is not { Length: > 0 })
            {
                names["listKind"] = kind + "List";
            }
        }
        if (spec["conversion"] is not JsonObject conversion)
        {
            spec["conversion"] = conversion = [];
        }
        if ((string?)conversion["strategy"] is not { Length: > 0 })
        {
            conversion["strategy"] = "None";
        }
    }

    public static void Validate(JsonObject crd, JsonObject? old, List<FieldCause> causes)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var group = (string?)spec["group"] ?? "";
        var names = spec["names"] as JsonObject ?? [];
        var plural = (string?)names["plural"] ?? "";
        if (crd.Name() != $"{plural}.{group}")
        {
            causes.Add(FieldCause.Invalid("metadata.name", crd.Name(), "must be spec.names.plural+\".\"+spec.group"));
        }
        if (group.Length == 0)
        {
            causes.Add(FieldCause.Required("spec.group"));
        }
        else if (Names.Dns1123SubdomainError(group) is { } e)
        {
            causes.Add(FieldCause.Invalid("spec.group", group, e));
        }
        else if (!group.Contains('.'))
        {
            causes.Add(FieldCause.Invalid("spec.group", group, "should be a domain with at least one dot"));
        }
        if (old is not null && (string?)old["spec"]?["group"] is { } oldGroup && oldGroup != group)
        {
            causes.Add(FieldCause.Invalid("spec.group", group, "field is immutable"));
        }
        var scope = (string?)spec["scope"] ?? "";
        if (scope.Length == 0)
        {
            causes.Add(FieldCause.Required("spec.scope"));
        }
        else if (scope is not ("Cluster" or "Namespaced"))
        {
            causes.Add(FieldCause.NotSupported("spec.scope", scope, ["Cluster", "Namespaced"]));
        }
        if (old is not null && (string?)old["spec"]?["scope"] is { } oldScope && oldScope != scope)
        {
            causes.Add(FieldCause.Invalid("spec.scope", scope, "field is immutable"));
        }
        ValidateNames(names, causes);
        ValidateVersions(spec, causes);
        ValidateConversion(spec, causes);
    }

    private static void ValidateNames(JsonObject names, List<FieldCause> causes)
    {
        void Named(string field, bool required, Func<string, string?> error)
        {
            var value = (string?)names[field] ?? "";
            if (value.Length == 0)
            {
                if (required)
                {
                    causes.Add(FieldCause.Required($"spec.names.{field}"));
                }
            }
            else if (error(value) is { } e)
            {
                causes.Add(FieldCause.Invalid($"spec.names.{field}", value, e));
            }
        }
        static string? KindError(string value) =>
            Names.Dns1035LabelError(value.ToLowerInvariant()) is null ? null : "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?";
        Named("plural", true, Names.Dns1035LabelError);
        Named("singular", false, Names.Dns1035LabelError);
        Named("kind", true, KindError);
        Named("listKind", false, KindError);
        if ((string?)names["kind"] is { Length: > 0 } kind && (string?)names["listKind"] == kind)
        {
            causes.Add(FieldCause.Invalid("spec.names.listKind", kind, "kind and listKind may not be the same or listKind must be different from kind"));
        }
        var shortNames = names["shortNames"] as JsonArray ?? [];
        for (var i = 0; i < shortNames.Count; i++)
        {
            if (Names.Dns1035LabelError((string?)shortNames[i] ?? "") is { } e)
            {
                causes.Add(FieldCause.Invalid($"spec.names.shortNames[{i}]", (string?)shortNames[i], e));
            }
        }
    }

    private static void ValidateVersions(JsonObject spec, List<FieldCause> causes)
    {
        var versions = spec["versions"] as JsonArray ?? [];
        if (versions.Count == 0)
        {
            causes.Add(FieldCause.Required("spec.versions", "must have exactly one version marked as storage version"));
            return;
        }
        var seen = new HashSet<string>();
        var storage = 0;
        var served = 0;
        for (var i = 0; i < versions.Count; i++)
        {
            var path = $"spec.versions[{i}]";
            var v = versions[i] as JsonObject ?? [];
            var name = (string?)v["name"] ?? "";
            if (name.Length == 0)
            {
                causes.Add(FieldCause.Required($"{path}.name"));
            }
            else if (Names.Dns1035LabelError(name) is { } e)
            {
                causes.Add(FieldCause.Invalid($"{path}.name", name, e));
            }
            else if (!seen.Add(name))
            {
                causes.Add(FieldCause.Duplicate($"{path}.name", name));
            }
            storage += (bool?)v["storage"] == true ? 1 : 0;
            served += (bool?)v["served"] == true ? 1 : 0;
            if (v["schema"]?["openAPIV3Schema"] is not JsonObject schema)
            {
                causes.Add(FieldCause.Required($"{path}.schema.openAPIV3Schema", "schemas are required"));
            }
            else
            {
                Structural(schema, $"{path}.schema.openAPIV3Schema", 0, root: true, causes);
                try
                {
                    StructuralSchema.Compile(schema);
                }
                catch (FormatException fe)
                {
                    causes.Add(FieldCause.Invalid($"{path}.schema.openAPIV3Schema", "", fe.Message));
                }
            }
            var columns = v["additionalPrinterColumns"] as JsonArray ?? [];
            for (var c = 0; c < columns.Count; c++)
            {
                var column = columns[c] as JsonObject ?? [];
                var cp = $"{path}.additionalPrinterColumns[{c}]";
                if ((string?)column["name"] is not { Length: > 0 })
                {
                    causes.Add(FieldCause.Required($"{cp}.name"));
                }
                if ((string?)column["type"] is not { } type || type.Length == 0)
                {
                    causes.Add(FieldCause.Required($"{cp}.type"));
                }
                else if (!ColumnTypes.Contains(type))
                {
                    causes.Add(FieldCause.NotSupported($"{cp}.type", type, ColumnTypes));
                }
                if ((string?)column["jsonPath"] is not { Length: > 0 } jsonPath)
                {
                    causes.Add(FieldCause.Required($"{cp}.jsonPath"));
                }
                else if (Tables.JsonPathLite.Error(jsonPath) is { } e)
                {
                    causes.Add(FieldCause.Invalid($"{cp}.jsonPath", jsonPath, e));
                }
            }
            if (v["subresources"]?["scale"] is JsonObject scale)
            {
                if ((string?)scale["specReplicasPath"] is not { } specPath || !specPath.StartsWith(".spec.", StringComparison.Ordinal))
                {
                    causes.Add(FieldCause.Invalid($"{path}.subresources.scale.specReplicasPath", (string?)scale["specReplicasPath"], "should be a json path under .spec"));
                }
                if ((string?)scale["statusReplicasPath"] is not { } statusPath || !statusPath.StartsWith(".status.", StringComparison.Ordinal))
                {
                    causes.Add(FieldCause.Invalid($"{path}.subresources.scale.statusReplicasPath", (string?)scale["statusReplicasPath"], "should be a json path under .status"));
                }
            }
        }
        if (storage != 1)
        {
            causes.Add(FieldCause.Invalid("spec.versions", versions, "must have exactly one version marked as storage version"));
        }
        if (served == 0)
        {
            causes.Add(FieldCause.Invalid("spec.versions", versions, "must have at least one version marked as served"));
        }
    }

    /// <summary>The rules of a structural schema (upstream's structural-schema checks), as far as they decide what Podnet serves.</summary>
    private static void Structural(JsonObject schema, string path, int depth, bool root, List<FieldCause> causes)
    {
        if (depth > StructuralSchema.MaxDepth)
        {
            causes.Add(FieldCause.Forbidden(path, $"must not be nested more than {StructuralSchema.MaxDepth} levels deep"));
            return;
        }
        var type = (string?)(schema["type"] as JsonValue);
        var intOrString = (bool?)(schema["x-kubernetes-int-or-string"] as JsonValue) == true;
        var preserve = (bool?)(schema["x-kubernetes-preserve-unknown-fields"] as JsonValue) == true;
        if (root && type != "object")
        {
            causes.Add(type is null ? FieldCause.Required($"{path}.type", "must not be empty at the root") : FieldCause.Invalid($"{path}.type", type, "must be object at the root"));
        }
        else if (type is null && !intOrString && !preserve)
        {
            causes.Add(FieldCause.Required($"{path}.type", "must not be empty for specified object fields"));
        }
        else if (type is not null && !SchemaTypes.Contains(type))
        {
            causes.Add(FieldCause.NotSupported($"{path}.type", type, SchemaTypes));
        }
        if (intOrString && type is not null)
        {
            causes.Add(FieldCause.Invalid($"{path}.type", type, "must be empty if x-kubernetes-int-or-string is true"));
        }
        if (schema["$ref"] is not null)
        {
            causes.Add(FieldCause.Forbidden($"{path}.$ref", "$ref is not supported"));
        }
        if (schema["properties"] is JsonObject && schema["additionalProperties"] is JsonObject)
        {
            causes.Add(FieldCause.Forbidden($"{path}.additionalProperties", "additionalProperties and properties are mutual exclusive"));
        }
        if (type == "array" && schema["items"] is not JsonObject)
        {
            causes.Add(FieldCause.Required($"{path}.items", "must be specified"));
        }
        if (schema["pattern"] is JsonValue p && (string?)p is { } pattern)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                causes.Add(FieldCause.Invalid($"{path}.pattern", pattern, $"must be a valid regular expression, but isn't: {e.Message}"));
            }
        }
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, value) in properties)
            {
                var child = $"{path}.properties[{name}]";
                if (value is not JsonObject o)
                {
                    causes.Add(FieldCause.Invalid(child, value, "must be an object"));
                    continue;
                }
                if (root && name == "metadata" && o.Any(kv => kv.Key is not ("type" or "description" or "properties")))
                {
                    causes.Add(FieldCause.Forbidden(child, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
                }
                if (root && name == "metadata" && o["properties"] is JsonObject mp && mp.Any(kv => kv.Key is not ("name" or "generateName")))
                {
                    causes.Add(FieldCause.Forbidden(child, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
                }
                Structural(o, child, depth + 1, false, causes);
            }
        }
        if (schema["additionalProperties"] is JsonObject additional)
        {
            Structural(additional, $"{path}.additionalProperties", depth + 1, false, causes);
        }
        if (schema["items"] is JsonObject items)
        {
            Structural(items, $"{path}.items", depth + 1, false, causes);
        }
        else if (schema["items"] is JsonArray)
        {
            causes.Add(FieldCause.Forbidden($"{path}.items", "items must be a schema object and not an array"));
        }
    }

    private static void ValidateConversion(JsonObject spec, List<FieldCause> causes)
    {
        var conversion = spec["conversion"] as JsonObject ?? [];
        var strategy = (string?)conversion["strategy"] ?? "None";
        if (strategy is not ("None" or "Webhook"))
        {
            causes.Add(FieldCause.NotSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]));
        }
        else if (strategy == "Webhook" && conversion["webhook"]?["clientConfig"] is not JsonObject)
        {
            causes.Add(FieldCause.Required("spec.conversion.webhook", "must be present when strategy is set to Webhook"));
        }
        else if (strategy == "None" && conversion["webhook"] is not null)
        {
            causes.Add(FieldCause.Forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook"));
        }
    }

    /// <summary>
    /// The status the naming and establishing controllers would write: acceptedNames,
    /// storedVersions, NamesAccepted (False with upstream's *Conflict reason when another CRD
    /// of the group, or a built-in resource, holds one of the names) and Established.
    /// </summary>
    public static void SetStatus(StoreTransaction txn, JsonObject crd, JsonObject? old, DateTimeOffset now)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var group = (string?)spec["group"] ?? "";
        var names = spec["names"] as JsonObject ?? [];
        var conflict = NameConflict(txn, crd.Name(), group, names);
        var status = new JsonObject();
        var oldConditions = old?["status"]?["conditions"] as JsonArray ?? [];
        JsonObject Condition(string type, string value, string reason, string message)
        {
            var previous = oldConditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);
            var since = previous is not null && (string?)previous["status"] == value ? (string?)previous["lastTransitionTime"] : null;
            return new JsonObject
            {
                ["type"] = type,
                ["status"] = value,
                ["lastTransitionTime"] = since ?? ObjectMeta.Timestamp(now),
                ["reason"] = reason,
                ["message"] = message,
            };
        }
        var conditions = new JsonArray();
        if (conflict is null)
        {
            status["acceptedNames"] = names.DeepClone();
            conditions.Add((JsonNode)Condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"));
            conditions.Add((JsonNode)Condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted"));
        }
        else
        {
            status["acceptedNames"] = old?["status"]?["acceptedNames"]?.DeepClone() ?? new JsonObject { ["plural"] = "", ["kind"] = "" };
            conditions.Add((JsonNode)Condition("NamesAccepted", "False", conflict.Value.Reason, conflict.Value.Message));
            conditions.Add((JsonNode)Condition("Established", "False", "NotAccepted", "not all names are accepted"));
        }
        if (crd.IsDeleting())
        {
            conditions.Add((JsonNode)Condition("Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"));
        }
        status["conditions"] = conditions;
        var stored = (old?["status"]?["storedVersions"] as JsonArray)?.Select(v => (string?)v ?? "").ToList() ?? [];
        foreach (var v in (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().Where(v => (bool?)v["storage"] == true))
        {
            if ((string?)v["name"] is { } name && !stored.Contains(name))
            {
                stored.Add(name);
            }
        }
        status["storedVersions"] = new JsonArray(stored.Select(s => (JsonNode)s).ToArray());
        crd["status"] = status;
    }

    /// <summary>
    /// The x-kubernetes-validations (CEL) rules of a CRD outside the subset Podnet evaluates
    /// (<see cref="CelSubset"/>), each as a sentence saying Podnet does not enforce it: the
    /// warnings of its create and update, so that no rule is ignored silently.
    /// </summary>
    public static List<string> NotEnforced(JsonObject crd)
    {
        var found = new List<string>();
        var versions = crd["spec"]?["versions"] as JsonArray ?? [];
        for (var i = 0; i < versions.Count && found.Count < 50; i++)
        {
            try
            {
                var schema = StructuralSchema.Compile(versions[i]?["schema"]?["openAPIV3Schema"] ?? new JsonObject());
                foreach (var (path, rule) in schema.AllRules().Where(r => CelSubset.TryCompile(r.Rule) is null).Take(50))
                {
                    var shown = rule.Length > 200 ? rule[..200] + "..." : rule;
                    found.Add($"spec.versions[{i}] {path}: x-kubernetes-validations rule '{shown}' is not enforced by Podnet (outside the CEL subset it evaluates)");
                }
            }
            catch (FormatException)
            {
                // Validation reported it.
            }
        }
        return found;
    }

    private static (string Reason, string Message)? NameConflict(StoreTransaction txn, string self, string group, JsonObject names)
    {
        var plural = (string?)names["plural"] ?? "";
        var singular = (string?)names["singular"] ?? "";
        var kind = (string?)names["kind"] ?? "";
        var listKind = (string?)names["listKind"] ?? "";
        var shortNames = (names["shortNames"] as JsonArray ?? []).Select(n => (string?)n ?? "").ToHashSet();
        if (ResourceCatalog.Resources.Any(r => r.Group == group && (r.Plural == plural || r.Kind == kind)))
        {
            return ("PluralConflict", $"\"{plural}\" is already in use");
        }
        foreach (var other in txn.List(ResourceCatalog.CustomResourceDefinitions.Key, null).Select(o => o.Parse()))
        {
            if (other.Name() == self || (string?)other["spec"]?["group"] != group)
            {
                continue;
            }
            var accepted = other["status"]?["acceptedNames"] as JsonObject ?? [];
            var otherPlural = (string?)accepted["plural"] ?? "";
            var otherSingular = (string?)accepted["singular"] ?? "";
            var otherShort = (accepted["shortNames"] as JsonArray ?? []).Select(n => (string?)n ?? "").ToHashSet();
            if (plural == otherPlural || plural == otherSingular)
            {
                return ("PluralConflict", $"\"{plural}\" is already in use");
            }
            if (singular.Length > 0 && (singular == otherPlural || singular == otherSingular))
            {
                return ("SingularConflict", $"\"{singular}\" is already in use");
            }
            if (shortNames.FirstOrDefault(otherShort.Contains) is { } taken)
            {
                return ("ShortNamesConflict", $"\"{taken}\" is already in use");
            }
            if (kind == (string?)accepted["kind"] || kind == (string?)accepted["listKind"])
            {
                return ("KindConflict", $"\"{kind}\" is already in use");
            }
            if (listKind.Length > 0 && (listKind == (string?)accepted["kind"] || listKind == (string?)accepted["listKind"]))
            {
                return ("ListKindConflict", $"\"{listKind}\" is already in use");
            }
        }
        return null;
    }
}
