namespace Podnet.Agent.Cluster;

/// <summary>
/// Reads the host's CNI directories into a <see cref="CniHostState"/> and carries out a plan of
/// <see cref="CniInstallPlanner"/>. Every write goes through a temporary file in the same
/// directory and a rename, so the runtime never reads half a conflist or execs half a plugin.
/// </summary>
public static class CniInstaller
{
    /// <summary>The state of the files the planner looks at: podnet-cni, podnet-ipam, the conflist, and the config directory's names.</summary>
    public static CniHostState Read(string binDirectory, string confDirectory)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in new[] { Path.Combine(binDirectory, CniInstallPlanner.PluginName), Path.Combine(binDirectory, CniInstallPlanner.IpamName), Path.Combine(confDirectory, CniInstallPlanner.ConfigName) })
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
            {
                links[path] = target;
            }
            else if (info.Exists)
            {
                using var stream = File.OpenRead(path);
                files[path] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            }
        }
        var names = Directory.Exists(confDirectory)
            ? Directory.EnumerateFiles(confDirectory).Select(p => Path.GetFileName(p)).ToArray()
            : [];
        return new CniHostState(files, links, names);
    }

    public static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    public static void Apply(IEnumerable<CniInstallStep> steps)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case CniInstallStep.Copy copy:
                    Replace(copy.Path, temp =>
                    {
                        File.Copy(copy.Source, temp, overwrite: true);
                        Runtime.Volumes.AtomicWriter.SetMode(temp, 0b111_101_101); // 0755
                    });
                    break;
                case CniInstallStep.Link link:
                    Replace(link.Path, temp => File.CreateSymbolicLink(temp, link.Target));
                    break;
                case CniInstallStep.Write write:
                    Replace(write.Path, temp =>
                    {
                        File.WriteAllText(temp, write.Content);
                        Runtime.Volumes.AtomicWriter.SetMode(temp, 0b110_100_100); // 0644
                    });
                    break;
                case CniInstallStep.Remove remove:
                    File.Delete(remove.Path);
                    break;
                default:
                    throw new InvalidOperationException($"unknown CNI install step {step}");
            }
        }
    }

    private static void Replace(string path, Action<string> make)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.podnet-tmp");
        File.Delete(temp);
        try
        {
            make(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
