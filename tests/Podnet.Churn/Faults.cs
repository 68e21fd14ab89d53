using Podnet.Kernel;

namespace Podnet.Churn;

public enum FaultKind
{
    AgentKill,
    ApiServerKill,
    ControllersKill,
    CniAddKill,
    CniDelKill,
    PodProcessKill,
    NodeStopStart,
    LinkDownUp,
    DiskFull,
}

/// <summary>One fault as it was injected: when, which, and what exactly (which node, pid, delay, outcome).</summary>
public sealed record FaultEvent(DateTimeOffset At, FaultKind Kind, string Detail)
{
    public override string ToString() => $"{At:HH:mm:ss.fff} {Kind}: {Detail}";
}

/// <summary>
/// Which cycles get which fault: every kind at least once (shuffled), then more to reach
/// <paramref name="faults"/>, spread evenly over the first nine tenths of the run so that the
/// last cycles run without a new fault before the run settles. Pure, from the seed.
/// </summary>
public static class FaultSchedule
{
    public static IReadOnlyDictionary<int, FaultKind> Build(int cycles, int faults, Random random)
    {
        var kinds = Enum.GetValues<FaultKind>();
        faults = Math.Max(faults, kinds.Length);
        var span = Math.Max(1, (int)(cycles * 0.9));
        if (span < kinds.Length)
        {
            throw new ArgumentException($"{cycles} cycles cannot hold each of the {kinds.Length} fault kinds once (at least {(int)Math.Ceiling(kinds.Length / 0.9)} are needed)");
        }
        faults = Math.Min(faults, span);
        var order = new List<FaultKind>();
        while (order.Count < faults)
        {
            var round = kinds.ToArray();
            random.Shuffle(round);
            order.AddRange(round);
        }
        var schedule = new Dictionary<int, FaultKind>();
        for (var i = 0; i < faults; i++)
        {
            schedule[(int)((long)i * span / faults)] = order[i];
        }
        return schedule;
    }
}

/// <summary>Processes found through /proc: children of a pid, and processes in a network namespace.</summary>
public static class ProcFs
{
    public static IEnumerable<int> Children(int parent)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ParentOf(pid) == parent)
            {
                yield return pid;
            }
        }
    }

    public static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Processes whose network namespace is the named one.</summary>
    public static IEnumerable<int> InNetns(string netnsName)
    {
        var inode = ProcessRunner.Run(null, "stat", ["-L", "-c", "%i", Netns.PathOf(netnsName)]).StandardOutput.Trim();
        var identity = $"net:[{inode}]";
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && new FileInfo(Path.Combine(dir, "ns", "net")) is var link)
            {
                string? target = null;
                try
                {
                    target = link.LinkTarget;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
                if (target == identity)
                {
                    yield return pid;
                }
            }
        }
    }

    /// <summary>Anonymous resident memory (RssAnon) in KiB, or null when the process is gone.</summary>
    public static long? AnonymousRssKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
