using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Validation;

/// <summary>ObjectMeta rules shared by every kind: the name, labels, annotations, owner references.</summary>
internal static class MetadataValidation
{
    /// <summary>Kinds whose names are DNS-1123 labels (the rest are subdomains).</summary>
    private static readonly HashSet<string> LabelNamed = ["namespaces"];

    public static void Validate(ResourceInfo r, JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var name = obj.Name();
        var error = r == ResourceCatalog.Services ? Names.Dns1035LabelError(name)
            : LabelNamed.Contains(r.Key) ? Names.Dns1123LabelError(name)
            : r.Group == "rbac.authorization.k8s.io" ? (name.Contains('/') || name is "." or ".." ? "may not contain '/'" : null)
            : r == ResourceCatalog.IPAddresses ? null // an address, checked by ServiceCidrValidation
            : Names.Dns1123SubdomainError(name);
        if (old is null && error is not null)
        {
            causes.Add(FieldCause.Invalid("metadata.name", name, error));
        }
        var meta = obj.Meta();
        if (meta["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                if (Names.LabelKeyError(key) is { } keyError)
                {
                    causes.Add(FieldCause.Invalid("metadata.labels", key, keyError));
                }
                if (value is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String)
                {
                    causes.Add(FieldCause.Invalid($"metadata.labels", value, "label values must be strings"));
                }
                else if (Names.LabelValueError((string)v!) is { } valueError)
                {
                    causes.Add(FieldCause.Invalid("metadata.labels", (string)v!, valueError));
                }
            }
        }
        else if (meta["labels"] is not null)
        {
            causes.Add(FieldCause.Invalid("metadata.labels", meta["labels"], "must be a map of strings"));
        }
        if (meta["annotations"] is JsonObject annotations)
        {
            foreach (var (key, _) in annotations)
            {
                if (Names.LabelKeyError(key.ToLowerInvariant()) is { } keyError)
                {
                    causes.Add(FieldCause.Invalid("metadata.annotations", key, keyError));
                }
            }
        }
        if (meta["ownerReferences"] is JsonArray owners)
        {
            for (var i = 0; i < owners.Count; i++)
            {
                foreach (var field in new[] { "apiVersion", "kind", "name", "uid" })
                {
                    if (string.IsNullOrEmpty((string?)owners[i]?[field]))
                    {
                        causes.Add(FieldCause.Invalid($"metadata.ownerReferences.{field}", "", $"{field} must not be empty"));
                    }
                }
            }
        }
    }
}
