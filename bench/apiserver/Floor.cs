using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Podnet.Bench.ApiServer;

/// <summary>
/// The storage floor: the same rows (a ConfigMap's JSON as the server stores it) into the same
/// schema, one transaction per row, WAL and synchronous=NORMAL, from one connection.
/// </summary>
internal static class Floor
{
    public static double Run(string path, int objects, string payload)
    {
        using var db = new SqliteConnection($"Data Source={path};Pooling=False");
        db.Open();
        using (var setup = db.CreateCommand())
        {
            setup.CommandText = """
                PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
                CREATE TABLE objects(resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                    rv INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(resource, namespace, name)) WITHOUT ROWID;
                CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO meta VALUES('rv', 1);
                """;
            setup.ExecuteNonQuery();
        }
        using var insert = db.CreateCommand();
        insert.CommandText = "INSERT INTO objects VALUES('configmaps', 'bench', $n, $v, $d)";
        var n = insert.Parameters.Add("$n", SqliteType.Text);
        var v = insert.Parameters.Add("$v", SqliteType.Integer);
        var d = insert.Parameters.Add("$d", SqliteType.Blob);
        using var bump = db.CreateCommand();
        bump.CommandText = "UPDATE meta SET value = $v WHERE key = 'rv'";
        var bv = bump.Parameters.Add("$v", SqliteType.Integer);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < objects; i++)
        {
            var name = $"cm-{i:D6}";
            var json = new JsonObject
            {
                ["kind"] = "ConfigMap",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "bench", ["uid"] = Guid.NewGuid().ToString(), ["resourceVersion"] = (i + 2).ToString(System.Globalization.CultureInfo.InvariantCulture), ["creationTimestamp"] = "2026-01-01T00:00:00Z", ["labels"] = new JsonObject { ["bench"] = "true" } },
                ["data"] = new JsonObject { ["value"] = payload },
            };
            using var transaction = db.BeginTransaction();
            insert.Transaction = transaction;
            bump.Transaction = transaction;
            n.Value = name;
            v.Value = i + 2;
            d.Value = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
            insert.ExecuteNonQuery();
            bv.Value = i + 2;
            bump.ExecuteNonQuery();
            transaction.Commit();
        }
        return clock.Elapsed.TotalSeconds;
    }
}
