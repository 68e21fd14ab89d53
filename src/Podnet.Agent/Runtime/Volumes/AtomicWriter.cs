using System.Globalization;

namespace Podnet.Agent.Runtime.Volumes;

/// <summary>
/// Writes a volume's payload so that a reader never sees half of an update, as kubelet's atomic
/// writer does: the files go into a new hidden directory named after the time
/// (..2026_12_07_15_04_05.123456789), the symlink ..data is swapped to it in one rename, and each
/// top-level name of the payload is a symlink through ..data (key → ..data/key). The previous
/// directory and the names no longer in the payload are removed afterwards. A payload equal to
/// what ..data shows already changes nothing.
/// </summary>
/// <remarks>
/// Readers that hold the volume's directory through a bind mount see the swap at once; a file
/// mounted alone (subPath) is the file of the directory current at mount time and is not
/// updated, as with kubelet.
/// </remarks>
public static class AtomicWriter
{
    public const string DataLink = "..data";

    /// <summary>Makes <paramref name="directory"/> show <paramref name="payload"/>; returns whether anything changed.</summary>
    public static bool Write(string directory, IReadOnlyDictionary<string, VolumeFile> payload, DateTime now)
    {
        Directory.CreateDirectory(directory);
        var link = Path.Combine(directory, DataLink);
        var current = File.Exists(link) || Directory.Exists(link) ? new FileInfo(link).LinkTarget : null;
        if (current is not null && Same(Path.Combine(directory, current), payload))
        {
            return false;
        }
        var name = ".." + now.ToString("yyyy_MM_dd_HH_mm_ss.", CultureInfo.InvariantCulture) + now.Ticks.ToString(CultureInfo.InvariantCulture)[^7..] + Random.Shared.Next(1000).ToString("D3", CultureInfo.InvariantCulture);
        var fresh = Path.Combine(directory, name);
        Directory.CreateDirectory(fresh);
        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(fresh, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, file.Content);
            SetMode(full, file.Mode);
        }
        var temporary = Path.Combine(directory, "..data_tmp");
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, name);
        Kernel.FileRename.Replace(temporary, link); // rename(2): the one step readers can see
        var top = payload.Keys.Select(p => p.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in top)
        {
            var path = Path.Combine(directory, entry);
            if (new FileInfo(path).LinkTarget is null && !File.Exists(path) && !Directory.Exists(path))
            {
                File.CreateSymbolicLink(path, Path.Combine(DataLink, entry));
            }
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            var entryName = Path.GetFileName(entry);
            if (entryName.StartsWith("..", StringComparison.Ordinal))
            {
                if (entryName != DataLink && entryName != name && Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
                {
                    Directory.Delete(entry, recursive: true); // the previous payload
                }
                continue;
            }
            if (!top.Contains(entryName) && new FileInfo(entry).LinkTarget is { } target && target.StartsWith(DataLink + "/", StringComparison.Ordinal))
            {
                File.Delete(entry);
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="directory"/> holds exactly <paramref name="payload"/> (contents and modes).</summary>
    private static bool Same(string directory, IReadOnlyDictionary<string, VolumeFile> payload)
    {
        if (!Directory.Exists(directory))
        {
            return false;
        }
        var existing = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToArray();
        if (existing.Length != payload.Count)
        {
            return false;
        }
        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(directory, path);
            if (!File.Exists(full) || ModeOf(full) != file.Mode || !File.ReadAllBytes(full).AsSpan().SequenceEqual(file.Content))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>chmod (Podnet runs on Linux only; the guard is for the analyzer).</summary>
    internal static void SetMode(string path, int mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)mode);
        }
    }

    private static int ModeOf(string path) => OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(path);
}
