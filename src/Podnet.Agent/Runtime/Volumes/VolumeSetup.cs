using k8s.Models;

namespace Podnet.Agent.Runtime.Volumes;

/// <summary>One mount the pod's holder makes in the pod's mount namespace before any container starts.</summary>
public abstract record SandboxMount
{
    /// <summary>A tmpfs (emptyDir medium Memory) over the volume's directory, seen only inside the pod.</summary>
    public sealed record Tmpfs(string Path, long Bytes) : SandboxMount;

    /// <summary>A bind mount; <paramref name="CreateSource"/>: the source is a directory to make first (a subPath of an emptyDir).</summary>
    public sealed record Bind(string Source, string Target, bool ReadOnly, bool IsFile, bool CreateSource = false) : SandboxMount;

    /// <summary>The holder's sh commands for one mount (run under set -e: a failing mount fails the pod's start).</summary>
    public static string Script(SandboxMount mount)
    {
        static string Q(string s) => PodSandbox.Quote(s);
        switch (mount)
        {
            case Tmpfs t:
                return $"mkdir -p {Q(t.Path)}; mount -t tmpfs -o mode=1777{(t.Bytes > 0 ? $",size={t.Bytes}" : "")} tmpfs {Q(t.Path)}; ";
            case Bind b:
                var text = b.CreateSource ? $"mkdir -p {Q(b.Source)}; " : "";
                text += b.IsFile
                    ? $"mkdir -p \"$(dirname {Q(b.Target)})\"; [ -e {Q(b.Target)} ] || : > {Q(b.Target)}; "
                    : $"mkdir -p {Q(b.Target)}; ";
                text += $"mount --bind {Q(b.Source)} {Q(b.Target)}; ";
                if (b.ReadOnly)
                {
                    text += $"mount -o remount,bind,ro {Q(b.Target)}; ";
                }
                return text;
            default:
                throw new ArgumentException("unknown mount");
        }
    }
}

/// <summary>
/// Makes a pod's volumes on the node before its sandbox starts: emptyDir and hostPath
/// directories, the payload of data volumes (through <see cref="AtomicWriter"/>); and turns the
/// plan's mounts into the holder's mounts, checking each subPath.
/// </summary>
public static class VolumeSetup
{
    public static IReadOnlyList<SandboxMount> Prepare(V1Pod pod, VolumePlan plan, VolumeInputs inputs, DateTime now)
    {
        var mounts = new List<SandboxMount>();
        foreach (var volume in plan.Volumes)
        {
            switch (volume.Kind)
            {
                case VolumeKind.EmptyDir:
                    Directory.CreateDirectory(volume.Directory);
                    AtomicWriter.SetMode(volume.Directory, 0x1FF); // 0777 as kubelet makes it
                    if (volume.TmpfsBytes is { } bytes)
                    {
                        mounts.Add(new SandboxMount.Tmpfs(volume.Directory, bytes));
                    }
                    break;
                case VolumeKind.HostPath:
                    EnsureHostPath(volume);
                    break;
                default:
                    AtomicWriter.Write(volume.Directory, VolumeFiles.Build(pod, volume, inputs), now);
                    break;
            }
        }
        var byName = plan.Volumes.ToDictionary(v => v.Name, StringComparer.Ordinal);
        foreach (var mount in plan.Mounts)
        {
            mounts.Add(Resolve(byName[mount.Volume], mount));
        }
        return mounts;
    }

    /// <summary>Writes the data volumes again from fresh inputs; returns the names of those that changed.</summary>
    public static IReadOnlyList<string> Refresh(V1Pod pod, VolumePlan plan, VolumeInputs inputs, DateTime now)
    {
        var changed = new List<string>();
        foreach (var volume in plan.Volumes.Where(v => v.Kind is not (VolumeKind.EmptyDir or VolumeKind.HostPath)))
        {
            if (AtomicWriter.Write(volume.Directory, VolumeFiles.Build(pod, volume, inputs), now))
            {
                changed.Add(volume.Name);
            }
        }
        return changed;
    }

    private static void EnsureHostPath(PlannedVolume volume)
    {
        var path = volume.Directory;
        switch (volume.HostPathType)
        {
            case "" or "DirectoryOrCreate":
                if (File.Exists(path))
                {
                    throw new VolumeException(volume.Name, $"hostPath type check failed: {volume.Source.HostPath!.Path} is not a directory");
                }
                Directory.CreateDirectory(path);
                break;
            case "Directory" when !Directory.Exists(path):
                throw new VolumeException(volume.Name, $"hostPath type check failed: {volume.Source.HostPath!.Path} is not a directory (the lab node's {path})");
            case "FileOrCreate":
                if (Directory.Exists(path))
                {
                    throw new VolumeException(volume.Name, $"hostPath type check failed: {volume.Source.HostPath!.Path} is not a file");
                }
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                if (!File.Exists(path))
                {
                    File.WriteAllBytes(path, []);
                }
                break;
            case "File" when !File.Exists(path):
                throw new VolumeException(volume.Name, $"hostPath type check failed: {volume.Source.HostPath!.Path} is not a file (the lab node's {path})");
        }
    }

    private static SandboxMount Resolve(PlannedVolume volume, PlannedMount mount)
    {
        if (mount.SubPath.Length == 0)
        {
            var isFile = volume.Kind == VolumeKind.HostPath && File.Exists(volume.Directory);
            return new SandboxMount.Bind(volume.Directory, mount.Target, mount.ReadOnly, isFile);
        }
        var source = Path.Combine(volume.Directory, mount.SubPath);
        if (volume.Kind == VolumeKind.EmptyDir)
        {
            // Made by the holder: a Memory emptyDir's tmpfs exists only inside the pod.
            return new SandboxMount.Bind(source, mount.Target, mount.ReadOnly, IsFile: false, CreateSource: true);
        }
        var real = RealPath(source);
        var root = RealPath(volume.Directory) ?? volume.Directory;
        if (real is not null && !(real == root || real.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal)))
        {
            throw new VolumeException(volume.Name, $"subPath \"{mount.SubPath}\" resolves to {real}, outside the volume");
        }
        if (real is null)
        {
            if (volume.Kind != VolumeKind.HostPath)
            {
                throw new VolumeException(volume.Name, $"subPath \"{mount.SubPath}\" does not exist in the volume");
            }
            Directory.CreateDirectory(source);
            return new SandboxMount.Bind(source, mount.Target, mount.ReadOnly, IsFile: false);
        }
        return new SandboxMount.Bind(real, mount.Target, mount.ReadOnly, IsFile: File.Exists(real));
    }

    /// <summary>
    /// True when <paramref name="target"/> lies on the host's filesystem as the pod sees it, so a
    /// missing mount point there would be made on the host: not under the pod's own tmpfs at
    /// /run (/var/run included, through its symlink), where the holder makes it inside the pod.
    /// </summary>
    public static bool OnHostFilesystem(string target)
    {
        var existing = Path.GetFullPath(target);
        while (existing != "/" && !Directory.Exists(existing) && !File.Exists(existing))
        {
            existing = Path.GetDirectoryName(existing)!;
        }
        var real = RealPath(existing) ?? existing;
        return !(real == "/run" || real.StartsWith("/run/", StringComparison.Ordinal));
    }

    /// <summary>The path with every symlink resolved, or null when it does not exist.</summary>
    private static string? RealPath(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return null;
        }
        var full = Path.GetFullPath(path);
        // Resolve each component in turn (FileSystemInfo resolves only the last one).
        var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "/";
        var hops = 0;
        var queue = new Queue<string>(parts);
        while (queue.Count > 0)
        {
            var next = Path.Combine(current, queue.Dequeue());
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > 40)
            {
                return null;
            }
            var resolved = Path.GetFullPath(target, current);
            var rest = queue.ToArray();
            queue = new Queue<string>(resolved.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
            current = "/";
        }
        return current;
    }
}
