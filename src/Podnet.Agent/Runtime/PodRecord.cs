using System.Text.Json;

namespace Podnet.Agent.Runtime;

/// <summary>
/// What the agent made for one pod, kept on disk (pods/UID/record.json) so that a restarted
/// agent adopts its pods without touching their network, and removes what belongs to pods
/// that are gone.
/// </summary>
public sealed class PodRecord
{
    public string Uid { get; set; } = "";

    public string Namespace { get; set; } = "";

    public string Name { get; set; } = "";

    public string Netns { get; set; } = "";

    public string Hostname { get; set; } = "";

    public int HolderPid { get; set; }

    public List<string> PodIPs { get; set; } = [];

    public DateTime StartTime { get; set; }

    public Dictionary<string, ContainerRecord> Containers { get; set; } = [];

    /// <summary>Set once every container has been stopped for the pod's deletion.</summary>
    public bool Stopped { get; set; }
}

public sealed class ContainerRecord
{
    /// <summary>process, server or pause (see <see cref="ContainerRun"/>).</summary>
    public string Kind { get; set; } = "process";

    public string Image { get; set; } = "";

    public int Pid { get; set; }

    public int RestartCount { get; set; }

    public DateTime? StartedAt { get; set; }

    public int? ExitCode { get; set; }

    public DateTime? FinishedAt { get; set; }

    public int? LastExitCode { get; set; }

    public DateTime? RestartAt { get; set; }

    public bool Ready { get; set; }

    public int ProbeSuccesses { get; set; }

    public int ProbeFailures { get; set; }

    public int LivenessFailures { get; set; }

    public DateTime? NextReadinessProbe { get; set; }

    public DateTime? NextLivenessProbe { get; set; }

    public string? Error { get; set; }
}

/// <summary>Reads and writes pod records atomically (write to a temporary file, then rename).</summary>
public static class PodRecordStore
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static string DirectoryOf(string podsDirectory, string uid) => Path.Combine(podsDirectory, uid);

    public static void Save(string podsDirectory, PodRecord record) => Write(podsDirectory, record.Uid, Serialize(record));

    /// <summary>The record as <see cref="Save"/> writes it (callers compare it to skip writes that change nothing).</summary>
    public static string Serialize(PodRecord record) => JsonSerializer.Serialize(record, s_json);

    /// <summary>Writes <paramref name="json"/> (from <see cref="Serialize"/>) as the record of pod <paramref name="uid"/>.</summary>
    public static void Write(string podsDirectory, string uid, string json)
    {
        var dir = DirectoryOf(podsDirectory, uid);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "record.json");
        File.WriteAllText(path + ".tmp", json);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static IReadOnlyList<PodRecord> LoadAll(string podsDirectory)
    {
        if (!Directory.Exists(podsDirectory))
        {
            return [];
        }
        var records = new List<PodRecord>();
        foreach (var dir in Directory.GetDirectories(podsDirectory))
        {
            var path = Path.Combine(dir, "record.json");
            if (File.Exists(path) && JsonSerializer.Deserialize<PodRecord>(File.ReadAllText(path), s_json) is { } record)
            {
                records.Add(record);
            }
        }
        return records;
    }

    /// <summary>The record of pod <paramref name="uid"/> as last saved, or null.</summary>
    public static PodRecord? Load(string podsDirectory, string uid)
    {
        var path = Path.Combine(DirectoryOf(podsDirectory, uid), "record.json");
        try
        {
            return JsonSerializer.Deserialize<PodRecord>(File.ReadAllText(path), s_json);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    public static void Delete(string podsDirectory, string uid)
    {
        var dir = DirectoryOf(podsDirectory, uid);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
