using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// The API server's disk full (issue 23), for real: its state directory on a small tmpfs that
/// the test fills to the last byte. Writes are refused with kube-apiserver's shape for a storage
/// that has no space (500 InternalError, the storage's words as the cause), the server stays up,
/// reads and a watch go on, nothing refused is stored, nothing is corrupted (integrity_check),
/// and writes succeed again once the space is freed — also after a restart.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private const string ConfigMaps = "api/v1/namespaces/default/configmaps";
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-diskfull-").FullName;
    private bool _mounted;

    public void Dispose()
    {
        if (_mounted)
        {
            ProcessRunner.Run(null, "umount", ["-l", _state]);
        }
        Directory.Delete(_state, recursive: true);
    }

    [PrivilegedFact]
    public async Task DiskFull_WritesAre500InternalError_ReadsAndWatchesGoOn_WritesWorkOnceSpaceReturns()
    {
        Mount();
        var acknowledged = new List<string>();
        using (var server = ServerProcess.Start(_state, controllers: "none"))
        {
            using var http = server.Http();
            Assert.Equal(HttpStatusCode.Created, await CreateAsync(http, "kept", "precious"));
            acknowledged.Add("kept");
            using var watch = await http.GetAsync($"{ConfigMaps}?watch=true", HttpCompletionOption.ResponseHeadersRead);
            using var events = new StreamReader(await watch.Content.ReadAsStreamAsync());
            string? seen;
            while ((seen = await events.ReadLineAsync()) is not null && !seen.Contains("\"kept\"", StringComparison.Ordinal))
            {
            }

            var filler = Path.Combine(_state, "filler");
            Fill(filler);
            // SQLite may still have room in pages its WAL already holds: big writes until one is
            // refused (the WAL cannot grow, and a checkpoint cannot grow the database).
            HttpStatusCode code = HttpStatusCode.Created;
            JsonNode? refused = null;
            var value = new string('x', 256 * 1024);
            for (var i = 0; i < 64 && code == HttpStatusCode.Created; i++)
            {
                using var response = await http.PostAsync(ConfigMaps, Json(ConfigMap($"big{i}", value)));
                code = response.StatusCode;
                if (code == HttpStatusCode.Created)
                {
                    acknowledged.Add($"big{i}");
                }
                else
                {
                    refused = JsonNode.Parse(await response.Content.ReadAsStringAsync());
                }
            }
            Assert.Equal(HttpStatusCode.InternalServerError, code);
            Assert.Equal(("Status", "Failure", "InternalError", 500), ((string?)refused!["kind"], (string?)refused["status"], (string?)refused["reason"], (int?)refused["code"]));
            Assert.Equal("Internal error occurred: the API server's database disk is full; writes are refused until space is freed", (string?)refused["message"]);
            Assert.Contains("full", (string?)refused["details"]?["causes"]?[0]?["message"], StringComparison.Ordinal);
            // A small write, and another verb, while the disk stays full: refused the same way, or,
            // when it fits in what the WAL file already has, stored.
            var small = await CreateAsync(http, "small", "v");
            Assert.True(small is HttpStatusCode.InternalServerError or HttpStatusCode.Created, $"small write on a full disk: {small}");
            if (small == HttpStatusCode.Created)
            {
                acknowledged.Add("small");
            }
            using (var delete = await http.DeleteAsync($"{ConfigMaps}/kept"))
            {
                Assert.True(delete.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.OK, $"delete on a full disk: {delete.StatusCode}");
                if (delete.StatusCode == HttpStatusCode.OK)
                {
                    acknowledged.Remove("kept"); // a delete may fit in a page the WAL already has
                }
            }

            Assert.False(server.HasExited, server.Stderr);
            using (var list = await http.GetAsync(ConfigMaps))
            {
                Assert.Equal(HttpStatusCode.OK, list.StatusCode);
                var names = JsonNode.Parse(await list.Content.ReadAsStringAsync())!["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!).Where(n => n != "kube-root-ca.crt").ToList();
                Assert.Equal(acknowledged.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
            }
            if (acknowledged.Contains("kept"))
            {
                using var get = await http.GetAsync($"{ConfigMaps}/kept");
                Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            }

            File.Delete(filler);
            Assert.Equal(HttpStatusCode.Created, await CreateAsync(http, "after", "v"));
            acknowledged.Add("after");
            // The watch opened before the disk filled is still live and sees the new write.
            string? line;
            while ((line = await events.ReadLineAsync()) is not null && !line.Contains("\"after\"", StringComparison.Ordinal))
            {
                Assert.True(small == HttpStatusCode.Created || !line.Contains("\"small\"", StringComparison.Ordinal), "a refused write reached a watch");
            }
            Assert.NotNull(line);
            Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(20)));
        }

        var check = ProcessRunner.Run(null, "sqlite3", ["-readonly", Path.Combine(_state, "state.db"), "PRAGMA integrity_check;"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal("ok", (check.StandardOutput + check.StandardError).Trim());

        using var restarted = ServerProcess.Start(_state, controllers: "none");
        using var again = restarted.Http();
        using var relist = await again.GetAsync(ConfigMaps);
        var stored = JsonNode.Parse(await relist.Content.ReadAsStringAsync())!["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!).Where(n => n != "kube-root-ca.crt").ToList();
        Assert.Equal(acknowledged.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.Created, await CreateAsync(again, "after-restart", "v"));
    }

    private void Mount()
    {
        var mount = ProcessRunner.Run(null, "mount", ["-t", "tmpfs", "-o", "size=12m,mode=0700", "podnet-diskfull-test", _state]);
        Assert.True(mount.Success, mount.StandardError);
        _mounted = true;
    }

    /// <summary>Writes until ENOSPC, in big pieces and then in single pages, so that not a block is left.</summary>
    private static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var size in new[] { 1 << 20, 4096 })
        {
            var chunk = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(chunk);
                }
            }
            catch (IOException)
            {
                // ENOSPC.
            }
        }
    }

    private static async Task<HttpStatusCode> CreateAsync(HttpClient http, string name, string value)
    {
        using var response = await http.PostAsync(ConfigMaps, Json(ConfigMap(name, value)));
        return response.StatusCode;
    }

    private static string ConfigMap(string name, string value) =>
        new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name }, ["data"] = new JsonObject { ["v"] = value } }.ToJsonString();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
