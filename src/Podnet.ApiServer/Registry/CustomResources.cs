using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Storage;
using Podnet.ApiServer.Validation;

namespace Podnet.ApiServer.Registry;

/// <summary>One printer column of a custom resource's version (additionalPrinterColumns).</summary>
internal sealed record PrinterColumn(string Name, string Type, string Format, string Description, int Priority, string JsonPath);

/// <summary>
/// What an Established CustomResourceDefinition serves: its names, scope, versions with their
/// compiled schemas and printer columns, and subresources.
/// </summary>
internal sealed class CustomResource
{
    public required string Group { get; init; }

    public required string Plural { get; init; }

    public required string Kind { get; init; }

    public required string StorageVersion { get; init; }

    /// <summary>Served versions, each as a ResourceInfo of its own (same storage key).</summary>
    public required List<ResourceInfo> Versions { get; init; }

    public required Dictionary<string, StructuralSchema> Schemas { get; init; }

    /// <summary>Each served version's openAPIV3Schema as the CRD has it (for /openapi/v3).</summary>
    public required Dictionary<string, JsonObject> RawSchemas { get; init; }

    public required Dictionary<string, List<PrinterColumn>> Columns { get; init; }

    /// <summary>Conversion strategy Webhook: only the storage version can be served (Podnet calls no webhooks).</summary>
    public bool WebhookConversion { get; init; }

    public string SpecReplicasPath { get; init; } = ".spec.replicas";

    public string StatusReplicasPath { get; init; } = ".status.replicas";

    public string? LabelSelectorPath { get; init; }

    public string Key => $"{Group}/{Plural}";

    private readonly Dictionary<string, Shape> _shapes = [];

    /// <summary>The fields a version's schema knows, for pruning and field validation.</summary>
    public Shape ShapeOf(string version)
    {
        lock (_shapes)
        {
            if (!_shapes.TryGetValue(version, out var shape))
            {
                _shapes[version] = shape = Schemas[version].ToShape(root: true);
            }
            return shape;
        }
    }

    /// <summary>
    /// An object as version <paramref name="version"/> serves it (conversion strategy None:
    /// apiVersion rewritten), with that version's defaults filled in as upstream defaults on read.
    /// </summary>
    public JsonObject Present(string version, JsonObject obj)
    {
        obj["apiVersion"] = $"{Group}/{version}";
        Schemas.GetValueOrDefault(version)?.ApplyDefaults(obj);
        return obj;
    }

    /// <summary>The storage version's ResourceInfo (deletion, namespaces, the sweeper).</summary>
    public ResourceInfo Storage => Versions.FirstOrDefault(v => v.Version == StorageVersion) ?? Versions[0];

    /// <summary>Reads an Established CRD; null when it serves nothing (not established, no served version, a schema that does not compile).</summary>
    public static CustomResource? From(JsonObject crd)
    {
        if (!IsEstablished(crd) || crd.IsDeleting())
        {
            return null;
        }
        var spec = crd["spec"] as JsonObject;
        var names = spec?["names"] as JsonObject;
        var group = (string?)spec?["group"];
        var plural = (string?)names?["plural"];
        var kind = (string?)names?["kind"];
        if (group is null || plural is null || kind is null || spec?["versions"] is not JsonArray versions)
        {
            return null;
        }
        var singular = (string?)names!["singular"] is { Length: > 0 } s ? s : kind.ToLowerInvariant();
        var listKind = (string?)names["listKind"] is { Length: > 0 } l ? l : kind + "List";
        var shortNames = (names["shortNames"] as JsonArray)?.Select(n => (string?)n ?? "").ToArray() ?? [];
        var categories = (names["categories"] as JsonArray)?.Select(n => (string?)n ?? "").ToArray() ?? [];
        var namespaced = (string?)spec["scope"] != "Cluster";
        var served = new List<ResourceInfo>();
        var schemas = new Dictionary<string, StructuralSchema>();
        var raw = new Dictionary<string, JsonObject>();
        var columns = new Dictionary<string, List<PrinterColumn>>();
        string? storage = null;
        JsonObject? scale = null;
        foreach (var v in versions.OfType<JsonObject>())
        {
            var name = (string?)v["name"] ?? "";
            if ((bool?)v["storage"] == true)
            {
                storage = name;
            }
            if ((bool?)v["served"] != true)
            {
                continue;
            }
            var subresources = new List<string>();
            if (v["subresources"]?["status"] is JsonObject)
            {
                subresources.Add("status");
            }
            if (v["subresources"]?["scale"] is JsonObject s2)
            {
                subresources.Add("scale");
                scale ??= s2;
            }
            raw[name] = v["schema"]?["openAPIV3Schema"] as JsonObject ?? new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            try
            {
                schemas[name] = StructuralSchema.Compile(raw[name]);
            }
            catch (FormatException)
            {
                return null;
            }
            columns[name] = (v["additionalPrinterColumns"] as JsonArray ?? []).OfType<JsonObject>().Select(c => new PrinterColumn(
                (string?)c["name"] ?? "", (string?)c["type"] ?? "string", (string?)c["format"] ?? "", (string?)c["description"] ?? "",
                (int?)c["priority"] ?? 0, (string?)c["jsonPath"] ?? "")).ToList();
            served.Add(new ResourceInfo(group, name, plural, kind, namespaced, shortNames, [.. subresources], categories)
            {
                Singular = singular,
                ListKind = listKind,
            });
        }
        if (served.Count == 0 || storage is null)
        {
            return null;
        }
        var cr = new CustomResource
        {
            Group = group,
            Plural = plural,
            Kind = kind,
            StorageVersion = storage,
            Versions = served,
            Schemas = schemas,
            RawSchemas = raw,
            Columns = columns,
            WebhookConversion = (string?)spec["conversion"]?["strategy"] == "Webhook",
            SpecReplicasPath = (string?)scale?["specReplicasPath"] ?? ".spec.replicas",
            StatusReplicasPath = (string?)scale?["statusReplicasPath"] ?? ".status.replicas",
            LabelSelectorPath = (string?)scale?["labelSelectorPath"],
        };
        foreach (var r in served)
        {
            r.Custom = cr;
        }
        return cr;
    }

    public static bool IsEstablished(JsonObject crd) =>
        (crd["status"]?["conditions"] as JsonArray ?? []).Any(c => (string?)c?["type"] == "Established" && (string?)c["status"] == "True");
}

/// <summary>
/// The custom resources a server serves, read from its stored CustomResourceDefinitions.
/// </summary>
/// <remarks>
/// As RbacAuthorizer's policy, the set is rebuilt only after a CRD changed, and seen
/// synchronously: the store publishes a write's events to subscribers before the write is
/// answered, so draining the subscription without waiting before each lookup makes a CRD's
/// resources served from the moment its create returns (upstream establishes them a moment
/// later; clients wait for the Established condition, which is then already true).
/// </remarks>
internal sealed class CustomResources(ObjectStore store) : IDisposable
{
    private readonly object _lock = new();
    private WatchHub.Subscription? _subscription;
    private IReadOnlyList<CustomResource> _current = [];

    /// <summary>Every served custom resource, current as of the last committed write.</summary>
    public IReadOnlyList<CustomResource> Current
    {
        get
        {
            lock (_lock)
            {
                var changed = false;
                if (_subscription is null || _subscription.Reader.Completion.IsCompleted)
                {
                    _subscription?.Dispose();
                    _subscription = store.Subscribe(ResourceCatalog.CustomResourceDefinitions.Key, store.ResourceVersion);
                    changed = true;
                }
                while (_subscription!.Reader.TryRead(out _))
                {
                    changed = true;
                }
                if (changed)
                {
                    _current = store.List(ResourceCatalog.CustomResourceDefinitions.Key, null).Items
                        .Select(i => CustomResource.From(i.Parse())).OfType<CustomResource>().ToList();
                }
                return _current;
            }
        }
    }

    public ResourceInfo? Find(string group, string version, string plural)
    {
        if (ResourceCatalog.Find(group, version, plural) is { } builtIn)
        {
            return builtIn;
        }
        foreach (var cr in Current)
        {
            if (cr.Group == group && cr.Plural == plural)
            {
                return cr.Versions.FirstOrDefault(v => v.Version == version);
            }
        }
        return null;
    }

    /// <summary>The built-in resources, then each custom resource's storage version.</summary>
    public IEnumerable<ResourceInfo> All => ResourceCatalog.Resources.Concat(Current.Select(c => c.Storage));

    /// <summary>A resource by its storage key (built-in or custom), null when nothing serves it now.</summary>
    public ResourceInfo? ByKey(string key) =>
        ResourceCatalog.Resources.FirstOrDefault(r => r.Key == key) ?? Current.FirstOrDefault(c => c.Key == key)?.Storage;

    /// <summary>Named groups with their versions, as discovery lists them: built-in first, then custom ones by name.</summary>
    public IEnumerable<(string Group, string[] Versions)> Groups()
    {
        foreach (var g in Http.Discovery.AllGroups)
        {
            yield return (g, ["v1"]);
        }
        foreach (var g in Current.Where(c => !Http.Discovery.AllGroups.Contains(c.Group)).GroupBy(c => c.Group).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            yield return (g.Key, VersionOrder(g.SelectMany(c => c.Versions.Select(v => v.Version)).Distinct()).ToArray());
        }
    }

    /// <summary>The resources of one group-version, built-in or custom.</summary>
    public IEnumerable<ResourceInfo> InGroupVersion(string group, string version) =>
        ResourceCatalog.InGroupVersion(group, version).Concat(Current.Where(c => c.Group == group).SelectMany(c => c.Versions.Where(v => v.Version == version)));

    /// <summary>Kubernetes' version priority: GA before beta before alpha, higher numbers first, then the rest by name.</summary>
    public static IEnumerable<string> VersionOrder(IEnumerable<string> versions) =>
        versions.OrderBy(v => Rank(v).Tier).ThenByDescending(v => Rank(v).Major).ThenByDescending(v => Rank(v).Minor).ThenBy(v => v, StringComparer.Ordinal);

    private static (int Tier, int Major, int Minor) Rank(string v)
    {
        var m = System.Text.RegularExpressions.Regex.Match(v, "^v([1-9][0-9]{0,8})(?:(alpha|beta)([1-9][0-9]{0,8}))?$");
        if (!m.Success)
        {
            return (3, 0, 0);
        }
        var major = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var minor = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (m.Groups[2].Value switch { "" => 0, "beta" => 1, _ => 2 }, major, minor);
    }

    public void Dispose() => _subscription?.Dispose();
}
