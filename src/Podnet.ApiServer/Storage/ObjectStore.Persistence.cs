using Microsoft.Data.Sqlite;

namespace Podnet.ApiServer.Storage;

internal sealed partial class ObjectStore
{
    private SqliteCommand? _upsert;
    private SqliteCommand? _delete;
    private SqliteCommand? _setRv;
    private SqliteCommand? _begin;
    private SqliteCommand? _commit;
    private SqliteCommand? _rollback;

    private void Load()
    {
        using (var command = _db.CreateCommand())
        {
            // The version of the last write: a row carries its own; meta holds the version of the
            // last write that removed rows (a delete leaves no row behind to carry it).
            command.CommandText = "SELECT MAX((SELECT value FROM meta WHERE key = 'rv'), COALESCE((SELECT MAX(rv) FROM objects), 0))";
            ResourceVersion = (long)command.ExecuteScalar()!;
        }
        using (var command = _db.CreateCommand())
        {
            command.CommandText = "SELECT resource, rv, data FROM objects";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var resource = reader.GetString(0);
                var data = (byte[])reader.GetValue(2);
                var parsed = StoredObject.From(resource, (System.Text.Json.Nodes.JsonNode.Parse(data, documentOptions: Http.Bodies.StoredJson) as System.Text.Json.Nodes.JsonObject)!, reader.GetInt64(1));
                CacheSet(parsed with { Json = data });
            }
        }
    }

    private void Commit(StoreTransaction transaction)
    {
        // BEGIN/COMMIT as prepared statements of our own: SqliteTransaction parses its SQL anew
        // for every write.
        _begin ??= Prepare("BEGIN");
        _commit ??= Prepare("COMMIT");
        _rollback ??= Prepare("ROLLBACK");
        _begin.ExecuteNonQuery();
        try
        {
            _upsert ??= Prepare("INSERT OR REPLACE INTO objects(resource, namespace, name, rv, data) VALUES($r, $n, $m, $v, $d)", "$r", "$n", "$m", "$v", "$d");
            _delete ??= Prepare("DELETE FROM objects WHERE resource = $r AND namespace = $n AND name = $m", "$r", "$n", "$m");
            _setRv ??= Prepare("UPDATE meta SET value = $v WHERE key = 'rv'", "$v");
            foreach (var e in transaction.Events)
            {
                var o = e.Object;
                var command = e.Type == StoreEventType.Deleted ? _delete : _upsert;
                command.Parameters[0].Value = o.Resource;
                command.Parameters[1].Value = o.Namespace;
                command.Parameters[2].Value = o.Name;
                if (e.Type != StoreEventType.Deleted)
                {
                    command.Parameters[3].Value = o.ResourceVersion;
                    command.Parameters[4].Value = o.Json;
                }
                command.ExecuteNonQuery();
            }
            // Creates and updates need no meta write (their row holds the version): one page
            // fewer in the WAL per write.
            if (transaction.Events[^1].Type == StoreEventType.Deleted)
            {
                _setRv.Parameters[0].Value = transaction.ResourceVersion;
                _setRv.ExecuteNonQuery();
            }
            _commit.ExecuteNonQuery();
        }
        catch (Exception e)
        {
            try
            {
                _rollback.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // No transaction left to roll back (SQLite already ended it).
            }
            if (e is SqliteException { SqliteErrorCode: SqliteFull })
            {
                throw DiskFull(e.Message);
            }
            throw;
        }
        lock (_cacheLock)
        {
            foreach (var e in transaction.Events)
            {
                if (e.Type == StoreEventType.Deleted)
                {
                    CacheRemove(e.Object.Resource, e.Object.Key);
                }
                else
                {
                    CacheSet(e.Object);
                }
            }
            ResourceVersion = transaction.ResourceVersion;
            Hub.Publish(transaction.Events);
        }
    }

    /// <summary>SQLITE_FULL: the write needed a page the file system could not give (ENOSPC).</summary>
    private const int SqliteFull = 13;

    /// <summary>
    /// A write refused for want of disk space, as kube-apiserver answers one its etcd refuses
    /// (etcd's "database space exceeded" reaches clients as 500 InternalError, "Internal error
    /// occurred: …", the storage's words as the cause). Nothing of the write is kept: SQLite
    /// rolled it back, and the memory copy and the watchers see only committed writes; reads are
    /// served from memory meanwhile, and writes succeed again once space returns.
    /// </summary>
    private static Http.ApiException DiskFull(string sqlite) =>
        new(500, "InternalError", "Internal error occurred: the API server's database disk is full; writes are refused until space is freed",
            new System.Text.Json.Nodes.JsonObject { ["causes"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["message"] = sqlite }) });

    private SqliteCommand Prepare(string text, params string[] names)
    {
        var command = _db.CreateCommand();
        command.CommandText = text;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return command;
    }

    private void CacheSet(StoredObject o)
    {
        if (!_cache.TryGetValue(o.Resource, out var map))
        {
            _cache[o.Resource] = map = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
        }
        if (map.TryGetValue(o.Key, out var old))
        {
            Unindex(old);
        }
        map[o.Key] = o;
        foreach (var owner in o.OwnerUids)
        {
            if (!_dependents.TryGetValue(owner, out var set))
            {
                _dependents[owner] = set = [];
            }
            set.Add((o.Resource, o.Key));
        }
    }

    private void CacheRemove(string resource, string key)
    {
        if (_cache.TryGetValue(resource, out var map) && map.Remove(key, out var old))
        {
            Unindex(old);
        }
    }

    private void Unindex(StoredObject o)
    {
        foreach (var owner in o.OwnerUids)
        {
            if (_dependents.TryGetValue(owner, out var set) && set.Remove((o.Resource, o.Key)) && set.Count == 0)
            {
                _dependents.Remove(owner);
            }
        }
    }
}
