using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Storage;

/// <summary>
/// One object as stored: its serialized JSON (metadata.resourceVersion already set to
/// <see cref="ResourceVersion"/>) and the few fields the store indexes.
/// </summary>
internal sealed record StoredObject(string Resource, string Namespace, string Name, long ResourceVersion, byte[] Json, string Uid, string[] OwnerUids, bool Deleting)
{
    /// <summary>Sort and map key inside one resource: namespace, then name (as etcd's key order).</summary>
    public string Key => KeyOf(Namespace, Name);

    public static string KeyOf(string ns, string name) => ns + "/" + name;

    public JsonObject Parse() => (JsonNode.Parse(Json, documentOptions: Http.Bodies.StoredJson) as JsonObject)!;

    public static StoredObject From(string resource, JsonObject obj, long rv)
    {
        var meta = obj["metadata"]!.AsObject();
        meta["resourceVersion"] = rv.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var owners = meta["ownerReferences"] is JsonArray refs
            ? refs.Select(r => (string?)r?["uid"]).Where(u => !string.IsNullOrEmpty(u)).Select(u => u!).ToArray()
            : [];
        var json = System.Text.Encoding.UTF8.GetBytes(obj.ToJsonString(Http.Bodies.Options));
        return new StoredObject(resource, (string?)meta["namespace"] ?? "", (string)meta["name"]!, rv, json, (string?)meta["uid"] ?? "", owners, meta["deletionTimestamp"] is not null);
    }
}

internal enum StoreEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>A committed change, in resourceVersion order; DELETED carries the deletion's version. Previous is the state before.</summary>
internal sealed record StoreEvent(StoreEventType Type, StoredObject Object, StoredObject? Previous)
{
    public string TypeName => Type switch
    {
        StoreEventType.Added => "ADDED",
        StoreEventType.Modified => "MODIFIED",
        _ => "DELETED",
    };
}
