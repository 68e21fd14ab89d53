using System.Text.Json;
using System.Text.Json.Serialization;

namespace Podnet.Kernel;

/// <summary>
/// The mount points pods need on the host's filesystem, made for them and removed after the
/// last pod that needed them is gone.
/// </summary>
/// <remarks>
/// Design note. Lab pods run the host's filesystem in mount namespaces of their own, so a
/// volumeMount at a path the host lacks (`/data`, the agnhost image's `/agnhost`) needs a
/// directory or file there to mount on, and making it inside the pod's mount namespace still
/// makes it on the host's filesystem, where it used to stay for ever. A root overlay per pod
/// would hide it but would also hide every mount under `/` (proc, sys, dev, run, the lab's own
/// directories) unless each were bound again, for every pod start. So the host keeps a
/// registry instead: each path made for a pod is recorded with the pods (owners: the pods'
/// own directories) that use it, under one host-wide lock, since every agent of every lab on
/// the machine shares that filesystem. It is removed only when no owner is left: unlinking a
/// directory that is a mount point in another mount namespace detaches that mount there
/// (Linux ≥ 3.18), so a path must never go while any pod may still be mounted on it. Paths
/// that existed before are never touched, and a made path that something else has written into
/// since (no longer empty) is left where it is. An owner whose directory is gone (a crashed
/// agent, a lab taken down) no longer counts, so every operation sweeps such owners first.
/// </remarks>
public sealed class MountPoints
{
    /// <summary>Where the machine's registry is: beside the labs' state, outside any one lab.</summary>
    public const string DefaultDirectory = "/var/lib/podnet/mountpoints";

    private static readonly TimeSpan s_lockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _directory;

    public MountPoints(string directory = DefaultDirectory) => _directory = directory;

    /// <summary>
    /// Makes whatever is missing of each target (every missing parent directory too; the last
    /// component as an empty file when the target is a file) and records <paramref name="owner"/>
    /// as a user of each path made, now or earlier for another owner. <paramref name="owner"/>
    /// is a directory that exists as long as the owner does.
    /// </summary>
    public void Acquire(string owner, IEnumerable<(string Path, bool IsFile)> targets)
    {
        using var held = Lock();
        var registry = Load();
        SweepDead(registry);
        try
        {
            Make(registry, owner, targets);
        }
        finally
        {
            Save(registry); // what was made before a failure is recorded too
        }
    }

    private static void Make(Dictionary<string, Entry> registry, string owner, IEnumerable<(string Path, bool IsFile)> targets)
    {
        foreach (var (target, isFile) in targets)
        {
            var full = Path.GetFullPath(target);
            var components = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var path = "";
            for (var i = 0; i < components.Length; i++)
            {
                path += "/" + components[i];
                var last = i == components.Length - 1;
                if (registry.TryGetValue(path, out var entry))
                {
                    entry.Owners.Add(owner);
                }
                if (File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null)
                {
                    continue;
                }
                if (last && isFile)
                {
                    using (File.Create(path))
                    {
                    }
                }
                else
                {
                    Directory.CreateDirectory(path);
                }
                registry[path] = new Entry { File = last && isFile, Owners = [owner] };
            }
        }
    }

    /// <summary>Forgets <paramref name="owner"/> and removes each path made that no owner uses any more.</summary>
    public void Release(string owner)
    {
        if (!File.Exists(Path.Combine(_directory, "registry.json")))
        {
            return; // nothing was ever made on this machine: no lock to take
        }
        using var held = Lock();
        var registry = Load();
        foreach (var entry in registry.Values)
        {
            entry.Owners.Remove(owner);
        }
        SweepDead(registry);
        Save(registry);
    }

    /// <summary>Removes the paths whose every owner is gone (after a lab went down).</summary>
    public void Sweep()
    {
        if (!File.Exists(Path.Combine(_directory, "registry.json")))
        {
            return;
        }
        using var held = Lock();
        var registry = Load();
        SweepDead(registry);
        Save(registry);
    }

    /// <summary>The paths recorded, each with its owners (for tests and diagnostics).</summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<string>> Recorded()
    {
        using var held = Lock();
        return Load().ToDictionary(e => e.Key, e => (IReadOnlyCollection<string>)e.Value.Owners, StringComparer.Ordinal);
    }

    private static void SweepDead(Dictionary<string, Entry> registry)
    {
        foreach (var entry in registry.Values)
        {
            entry.Owners.RemoveWhere(owner => !Directory.Exists(owner));
        }
        // Deepest first, so that a parent made for the same pod is empty by its turn.
        foreach (var path in registry.Where(e => e.Value.Owners.Count == 0).Select(e => e.Key).OrderByDescending(p => p.Length).ToList())
        {
            Remove(path, registry[path].File);
            registry.Remove(path);
        }
    }

    private static void Remove(string path, bool file)
    {
        try
        {
            if (file)
            {
                var info = new FileInfo(path);
                if (info.Exists && info.LinkTarget is null && info.Length == 0)
                {
                    info.Delete();
                }
            }
            else if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null && !Directory.EnumerateFileSystemEntries(path).Any())
            {
                Directory.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A mount point in this namespace (EBUSY) or written into meanwhile: it stays.
        }
    }

    private FileLock Lock()
    {
        Directory.CreateDirectory(_directory);
        return FileLock.Acquire(Path.Combine(_directory, ".lock"), exclusive: true, s_lockTimeout);
    }

    private Dictionary<string, Entry> Load()
    {
        var path = Path.Combine(_directory, "registry.json");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), MountPointsJson.Default.DictionaryStringEntry)
                ?? new Dictionary<string, Entry>(StringComparer.Ordinal);
        }
        catch (FileNotFoundException)
        {
            return new Dictionary<string, Entry>(StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            // A registry cut short by a crash: what it named stays on disk, as before the registry.
            return new Dictionary<string, Entry>(StringComparer.Ordinal);
        }
    }

    private void Save(Dictionary<string, Entry> registry)
    {
        var path = Path.Combine(_directory, "registry.json");
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(registry, MountPointsJson.Default.DictionaryStringEntry));
        File.Move(temporary, path, overwrite: true);
    }

    internal sealed class Entry
    {
        public bool File { get; set; }

        public HashSet<string> Owners { get; set; } = new(StringComparer.Ordinal);
    }
}

[JsonSerializable(typeof(Dictionary<string, MountPoints.Entry>))]
internal sealed partial class MountPointsJson : JsonSerializerContext;
