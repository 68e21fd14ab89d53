using Podnet.Front;

namespace Podnet.Front.Tests;

/// <summary>`podnet exec`'s reading of a node's pod record (the agent's pods/UID/record.json).</summary>
public sealed class PodRecordsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pn-front-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A record as the agent writes it; the holder is this test process, which is alive.</summary>
    private string Record(string ns, string name, bool stopped = false, int holder = -1, params string[] containers)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        var list = string.Join(",", containers.Select(c => $"\"{c}\": {{ \"Kind\": \"process\", \"Pid\": 0 }}"));
        File.WriteAllText(path, $$"""{ "Uid": "u1", "Namespace": "{{ns}}", "Name": "{{name}}", "HolderPid": {{(holder < 0 ? Environment.ProcessId : holder)}}, "Containers": { {{list}} }, "Stopped": {{(stopped ? "true" : "false")}} }""");
        return path;
    }

    [Fact]
    public void A_live_record_of_the_pod_enters_its_holder()
    {
        var entry = PodRecords.Match(Record("t", "web", containers: ["app"]), "t", "web", null);
        Assert.NotNull(entry);
        Assert.Equal(Environment.ProcessId, entry.Target); // no container process: the holder's namespaces
        Assert.Equal(["/usr/bin/nsenter", "--target", Environment.ProcessId.ToString(), "--mount", "--uts", "--ipc", "--net", "--pid", "--", "true"], entry.Argv(["true"]));
    }

    [Fact]
    public void Other_stopped_or_ambiguous_records_are_not_taken()
    {
        Assert.Null(PodRecords.Match(Record("t", "web", containers: ["app"]), "default", "web", null));
        Assert.Null(PodRecords.Match(Record("t", "web", containers: ["app"]), "t", "web2", null));
        Assert.Null(PodRecords.Match(Record("t", "web", stopped: true, containers: ["app"]), "t", "web", null));
        Assert.Null(PodRecords.Match(Record("t", "web", holder: 0, containers: ["app"]), "t", "web", null));
        // Two containers and no -c: the first is the spec's, which only the server knows.
        Assert.Null(PodRecords.Match(Record("t", "web", containers: ["a", "b"]), "t", "web", null));
        Assert.NotNull(PodRecords.Match(Record("t", "web", containers: ["a", "b"]), "t", "web", "b"));
        var broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{\"Namespace\": ");
        Assert.Null(PodRecords.Match(broken, "t", "web", null));
        Assert.Null(PodRecords.Match(Path.Combine(_dir, "none.json"), "t", "web", null));
    }
}
