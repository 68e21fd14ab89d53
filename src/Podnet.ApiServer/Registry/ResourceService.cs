using System.Text;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Fields;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Selectors;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Registry;

internal sealed record ListOptions(LabelSelector Labels, FieldSelector Fields, int Limit, string? Continue);

/// <summary>
/// The REST semantics shared by every resource (get, list, create, update, patch, delete), as
/// kube-apiserver's generic registry: HTTP-free, over JSON objects.
/// </summary>
internal sealed partial class ResourceService(ObjectStore store, AdmissionChain admission, TimeProvider clock)
{
    private const string NameChars = "bcdfghjklmnpqrstvwxz2456789";

    public ObjectStore Store => store;

    /// <summary>The custom resources served now, from the stored CustomResourceDefinitions.</summary>
    public CustomResources Crds { get; } = new(store);

    /// <summary>Fills a new namespace with what every namespace has (set by the host; see Bootstrap).</summary>
    public Action<StoreTransaction>? NamespaceDefaults { get; set; }

    public JsonObject Get(ResourceInfo r, string? ns, string name) =>
        store.Get(r.Key, ns ?? "", name)?.Parse() ?? throw ApiException.NotFound(r, name);

    public JsonObject List(ResourceInfo r, string? ns, ListOptions options)
    {
        var (startKey, tokenRv) = DecodeContinue(options.Continue);
        var (items, rv) = store.List(r.Key, ns, startKey);
        if (tokenRv is { } oldRv)
        {
            rv = oldRv;
        }
        var selected = new JsonArray();
        string? next = null;
        var remaining = 0;
        foreach (var item in items)
        {
            var obj = item.Parse();
            if (!options.Labels.Matches(obj) || !options.Fields.Matches(obj))
            {
                continue;
            }
            if (options.Limit > 0 && selected.Count >= options.Limit)
            {
                remaining++;
                continue;
            }
            selected.Add((JsonNode)obj);
            next = item.Key;
        }
        var metadata = new JsonObject { ["resourceVersion"] = rv.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (remaining > 0)
        {
            metadata["continue"] = EncodeContinue(rv, next!);
            if (options.Labels.IsEmpty && options.Fields.IsEmpty)
            {
                metadata["remainingItemCount"] = remaining;
            }
        }
        return new JsonObject
        {
            ["kind"] = r.ListKind,
            ["apiVersion"] = r.ApiVersion,
            ["metadata"] = metadata,
            ["items"] = selected,
        };
    }

    public Task<JsonObject> CreateAsync(ResourceInfo r, string? ns, JsonObject body, bool dryRun, FieldManager? manager = null) =>
        store.WriteAsync(txn =>
        {
            txn.Discard = dryRun;
            return Create(txn, r, ns, body, manager);
        });

    /// <summary>
    /// Creates inside a write already under way (bootstrap objects, mirrored slices); a
    /// <paramref name="manager"/> is recorded in managedFields as owning what it set.
    /// </summary>
    public JsonObject Create(StoreTransaction txn, ResourceInfo r, string? ns, JsonObject body, FieldManager? manager = null)
    {
        var obj = body.DeepClone().AsObject();
        CheckKind(r, obj);
        var meta = obj.Meta();
        if (r.Namespaced)
        {
            var bodyNs = (string?)meta["namespace"];
            if (bodyNs is { Length: > 0 } && ns is not null && bodyNs != ns)
            {
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }
            ns ??= bodyNs;
            meta["namespace"] = ns;
            CheckNamespaceOpen(txn, ns ?? "");
        }
        else
        {
            meta.Remove("namespace");
        }
        if (string.IsNullOrEmpty((string?)meta["name"]) && (string?)meta["generateName"] is { Length: > 0 } prefix)
        {
            meta["name"] = GenerateName(txn, r, ns ?? "", prefix);
        }
        if (string.IsNullOrEmpty((string?)meta["name"]))
        {
            throw ApiException.Invalid(r, "", [FieldCause.Required("metadata.name", "name or generateName is required")]);
        }
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = ObjectMeta.Timestamp(clock.GetUtcNow());
        foreach (var f in new[] { "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink" })
        {
            meta.Remove(f);
        }
        if (r.Group.Length > 0 && r.Group != "rbac.authorization.k8s.io" || r.Kind == "Pod")
        {
            meta["generation"] = 1;
        }
        if (r.Custom is not null && r.HasSubresource("status"))
        {
            // As upstream's customResourceStrategy.PrepareForCreate: with a status subresource
            // the status is written only through it, so one sent on create is dropped.
            obj.Remove("status");
        }
        admission.Admit(txn, r, obj, null);
        if (manager is not null)
        {
            ManagedFields.Track(r, null, obj, manager, clock.GetUtcNow());
        }
        if (txn.Get(r.Key, ns ?? "", obj.Name()) is not null)
        {
            throw ApiException.AlreadyExists(r, obj.Name());
        }
        var created = txn.Put(r.Key, obj).Parse();
        AfterWrite(txn, r, created.Name(), null, created);
        return created;
    }

    /// <summary>
    /// What a change to an object sets off inside the same write: a new namespace's defaults.
    /// Not the EndpointSlices of a selector-less Service's Endpoints: the controllers' mirroring
    /// owns those alone, as kube-controller-manager does (two writers under one managed-by label
    /// fought over the same slices).
    /// </summary>
    private void AfterWrite(StoreTransaction txn, ResourceInfo r, string name, JsonObject? before, JsonObject? after)
    {
        if (r == ResourceCatalog.Namespaces && txn.Get(r.Key, "", name) is { Deleting: false })
        {
            NamespaceDefaults?.Invoke(txn);
        }
        if (r == ResourceCatalog.Services)
        {
            RecordServiceAddresses(txn, before, after);
        }
        else if (r == ResourceCatalog.ServiceCidrs || r == ResourceCatalog.IPAddresses && after is null)
        {
            ReleaseServiceCidrs(txn);
        }
    }

    private string GenerateName(StoreTransaction txn, ResourceInfo r, string ns, string prefix)
    {
        prefix = prefix.Length > 58 ? prefix[..58] : prefix;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var name = prefix + string.Concat(Enumerable.Range(0, 5).Select(_ => NameChars[Random.Shared.Next(NameChars.Length)]));
            if (txn.Get(r.Key, ns, name) is null)
            {
                return name;
            }
        }
        throw new ApiException(409, "AlreadyExists", $"{r.QualifiedPlural} with generateName \"{prefix}\" could not be given a free name");
    }

    private static void CheckKind(ResourceInfo r, JsonObject obj)
    {
        var kind = (string?)obj["kind"];
        var apiVersion = (string?)obj["apiVersion"];
        if (kind is { Length: > 0 } && kind != r.Kind || apiVersion is { Length: > 0 } && apiVersion != r.ApiVersion)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({r.ApiVersion})" + (kind != r.Kind ? $", or the kind {kind} is not {r.Kind}" : ""));
        }
        obj["kind"] = r.Kind;
        obj["apiVersion"] = r.ApiVersion;
        if (obj["metadata"] is not null and not JsonObject)
        {
            throw ApiException.BadRequest("metadata must be an object");
        }
    }

    private static void CheckNamespaceOpen(StoreTransaction txn, string ns)
    {
        var stored = txn.Get(ResourceCatalog.Namespaces.Key, "", ns) ?? throw ApiException.NotFound(ResourceCatalog.Namespaces, ns);
        if (stored.Deleting)
        {
            throw new ApiException(403, "Forbidden", $"unable to create new content in namespace {ns} because it is being terminated",
                new JsonObject { ["name"] = ns, ["kind"] = "namespaces" });
        }
    }

    private (string? StartKey, long? Rv) DecodeContinue(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return (null, null);
        }
        long rv;
        string start;
        try
        {
            var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token)))!;
            rv = (long)json["rv"]!;
            start = (string)json["start"]!;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        {
            throw ApiException.BadRequest($"continue key is not valid: {e.Message}");
        }
        if (rv < store.Hub.FloorResourceVersion)
        {
            throw ApiException.Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
        }
        return (start, rv);
    }

    private static string EncodeContinue(long rv, string key) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["rv"] = rv, ["start"] = key }.ToJsonString()));
}
