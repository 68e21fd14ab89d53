using Microsoft.Data.Sqlite;

namespace Podnet.ApiServer.Storage;

/// <summary>
/// Every object, durably in SQLite (WAL) and in memory for reads; one global resourceVersion.
/// </summary>
/// <remarks>
/// Writes are serialized: each runs its body against a <see cref="StoreTransaction"/>, then
/// commits all of its changes in one SQLite transaction, and only then updates the memory
/// copy and tells the watchers. A write that throws leaves nothing behind. synchronous=NORMAL
/// in WAL mode keeps every committed transaction across a kill -9 of the process (the WAL is in
/// the page cache); only a machine crash can lose the last ones.
/// </remarks>
internal sealed partial class ObjectStore : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly object _cacheLock = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _cache = [];
    private readonly Dictionary<string, HashSet<(string Resource, string Key)>> _dependents = [];

    public ObjectStore(string path, int watchWindow)
    {
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 2 }.ToString());
        _db.Open();
        // Exclusive: this process is the database's only user, so SQLite takes its file lock once
        // instead of around every transaction (and keeps the WAL index in memory). A second
        // server on the same state directory fails (busy, after DefaultTimeout) instead of
        // writing behind the first one's back.
        Execute("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS objects(resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                rv INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(resource, namespace, name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO meta(key, value) VALUES('rv', 1);
            """);
        Load();
        Hub = new WatchHub(watchWindow, ResourceVersion);
    }

    /// <summary>The resourceVersion of the last committed write.</summary>
    public long ResourceVersion { get; private set; }

    public WatchHub Hub { get; }

    public StoredObject? Get(string resource, string ns, string name)
    {
        lock (_cacheLock)
        {
            return _cache.TryGetValue(resource, out var map) ? map.GetValueOrDefault(StoredObject.KeyOf(ns, name)) : null;
        }
    }

    /// <summary>Objects of one resource (one namespace when given) in key order, with the version they reflect.</summary>
    public (List<StoredObject> Items, long ResourceVersion) List(string resource, string? ns, string? afterKey = null)
    {
        lock (_cacheLock)
        {
            var items = new List<StoredObject>();
            if (_cache.TryGetValue(resource, out var map))
            {
                foreach (var o in map.Values)
                {
                    if ((ns is null || o.Namespace == ns) && (afterKey is null || string.CompareOrdinal(o.Key, afterKey) > 0))
                    {
                        items.Add(o);
                    }
                }
            }
            return (items, ResourceVersion);
        }
    }

    /// <summary>Takes a consistent snapshot and starts following changes after it, atomically.</summary>
    public (List<StoredObject> Items, long ResourceVersion, WatchHub.Subscription Subscription) SnapshotAndSubscribe(string resource, string? ns)
    {
        lock (_cacheLock)
        {
            var (items, rv) = List(resource, ns);
            return (items, rv, Hub.Subscribe(resource, rv)!);
        }
    }

    public WatchHub.Subscription? Subscribe(string resource, long fromResourceVersion)
    {
        lock (_cacheLock)
        {
            return Hub.Subscribe(resource, fromResourceVersion);
        }
    }

    /// <summary>Objects whose ownerReferences name <paramref name="ownerUid"/>.</summary>
    public List<StoredObject> Dependents(string ownerUid)
    {
        lock (_cacheLock)
        {
            if (!_dependents.TryGetValue(ownerUid, out var keys))
            {
                return [];
            }
            return keys.Select(k => _cache[k.Resource][k.Key]).ToList();
        }
    }

    public async Task<T> WriteAsync<T>(Func<StoreTransaction, T> body, CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = new StoreTransaction(this, ResourceVersion);
            var result = body(transaction);
            if (transaction.Events.Count > 0 && !transaction.Discard)
            {
                Commit(transaction);
            }
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose()
    {
        _db.Dispose();
        _writeGate.Dispose();
    }

    private void Execute(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
