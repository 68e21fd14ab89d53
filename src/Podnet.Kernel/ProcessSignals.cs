using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Podnet.Kernel;

/// <summary>
/// Processes that must outlive the one that starts them (a pod's holder and containers): each
/// starts in a session of its own (setsid), optionally inside a network namespace, with no
/// pipes to its parent; and kill(2) for processes this run did not start.
/// </summary>
public static partial class ProcessSignals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>
    /// Starts <paramref name="file"/> detached in a new session (its pid is also its process
    /// group), inside <paramref name="netns"/> when given, with exactly
    /// <paramref name="environment"/> when given. Returns the pid.
    /// </summary>
    public static Process StartDetached(Netns? netns, string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, WorkingDirectory = "/" };
        info.ArgumentList.Add(file);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            info.Environment.Clear();
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        Process Start() => Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        return netns is null ? Start() : netns.Run(Start);
    }

    /// <summary>Signals one process; false when it no longer exists.</summary>
    public static bool Kill(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Signals a process group (a detached process and its children); false when none is left.</summary>
    public static bool KillGroup(int pgid, int signal) => kill(-pgid, signal) == 0;

    public static bool IsAlive(int pid) => kill(pid, 0) == 0;

    /// <summary>True when process <paramref name="pid"/> has a child (false when it has none or is gone).</summary>
    public static bool HasChildren(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim().Length > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// The processes (not this one) whose network namespace is one of <paramref name="identities"/>
    /// (<see cref="Netns.Identity"/>), read from /proc; zombies, which hold no namespace, are not among them.
    /// </summary>
    public static IReadOnlyList<int> InNetworkNamespaces(IReadOnlySet<string> identities)
    {
        var found = new List<int>();
        if (identities.Count == 0)
        {
            return found;
        }
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                if (new FileInfo(System.IO.Path.Combine(directory, "ns", "net")).LinkTarget is { } link && identities.Contains(link))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or a zombie (its ns links are unreadable).
            }
        }
        return found;
    }

    /// <summary>
    /// The process a chain of launchers runs: from <paramref name="pid"/>, down through each
    /// process named one of <paramref name="launchers"/> (/proc/PID/comm) to its only child.
    /// <paramref name="pid"/> itself when it is not a launcher; null when no command is reached:
    /// a process is gone, or a launcher has no child (not started yet, or ended) or several.
    /// </summary>
    public static int? Innermost(int pid, IReadOnlySet<string> launchers)
    {
        for (var depth = 0; depth < 16; depth++)
        {
            string comm;
            string[] children;
            try
            {
                comm = File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
                children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
            if (!launchers.Contains(comm))
            {
                return pid;
            }
            if (children.Length != 1 || !int.TryParse(children[0], System.Globalization.CultureInfo.InvariantCulture, out var child))
            {
                return null;
            }
            pid = child;
        }
        return null;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
