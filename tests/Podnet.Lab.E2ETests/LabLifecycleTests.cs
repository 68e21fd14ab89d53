using System.Text.Json.Nodes;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

public sealed class LabLifecycleTests
{
    [PrivilegedFact]
    public void UpStatusDown_LeavesTheRootNamespaceExactlyAsBefore_AndNothingOfTheLab()
    {
        var before = RootSnapshot.Take();
        var namespaces = new HashSet<string>();
        var name = "l" + Guid.NewGuid().ToString("N")[..7];
        var podnet = RepoPaths.Bin("podnet");
        ProcessResult Run(params string[] args) => ProcessRunner.Run(null, podnet, args, timeout: TimeSpan.FromMinutes(4));
        System.Diagnostics.Process? stray = null;
        try
        {
            var up = Run("lab", "up", "--name", name, "--nodes", "2");
            Assert.True(up.Success, up.StandardError);
            Assert.Contains("kubeconfig:", up.StandardOutput);

            var again = Run("lab", "up", "--name", name);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("already running", again.StandardError);

            var status = JsonNode.Parse(Run("lab", "status", "--name", name, "-o", "json").StandardOutput)!;
            Assert.Equal(name, (string)status["name"]!);
            Assert.Equal("island", (string)status["architecture"]!);
            Assert.Equal("host-gw", (string)status["routing"]!);
            Assert.Equal($"pn-{name}-cp", (string)status["controlPlane"]!["netns"]!);
            Assert.Equal("172.18.0.1", (string)status["outside"]!["address"]!);
            Assert.StartsWith("https://127.0.0.1:", (string)status["apiServer"]!);
            var nodes = status["nodes"]!.AsArray();
            Assert.Equal(2, nodes.Count);
            Assert.All(nodes, n => Assert.True((bool)n!["ready"]!));
            Assert.All(nodes, n => Assert.StartsWith("10.244.", (string)n!["podCIDR"]!));
            Assert.All(nodes, n => Assert.True(ProcessSignals.IsAlive((int)n!["agentPid"]!)));
            Assert.Contains(name, Run("lab", "list").StandardOutput);

            // A process no record names, as a user's `podnet exec … &` leaves one: down ends it.
            stray = ProcessSignals.StartDetached(null, podnet, ["exec", "--lab", name, "--node", "n1", "--", "sleep", "600"]);
            var sleeping = WaitFor(() => ProcessesOf(name, LabNamespaceInodes(name)).Any(p => p.EndsWith(": sleep 600 ", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
            Assert.True(sleeping, "the stray `sleep 600` did not start inside n1");
        }
        finally
        {
            namespaces = LabNamespaceInodes(name);
            var down = Run("lab", "down", "--name", name);
            Assert.True(down.Success, down.StandardError);
            if (stray is not null)
            {
                Assert.Matches(@"\(\d+ namespaces removed, [1-9]\d* leftover processes ended\)", down.StandardError);
                Assert.True(stray.WaitForExit(TimeSpan.FromSeconds(30)), "podnet exec did not end with its command");
                stray.Dispose();
            }
        }
        Assert.DoesNotContain(Netns.List(), n => n.Contains(name, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine("/var/lib/podnet/labs", name)));
        Assert.NotEmpty(namespaces);
        Assert.Empty(ProcessesOf(name, namespaces));
        Assert.Equal(before, RootSnapshot.Take());
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            Thread.Sleep(50);
        }
        return true;
    }

    /// <summary>The namespace identities (net:[inode]) of the lab's namespaces, pods' included.</summary>
    private static HashSet<string> LabNamespaceInodes(string lab) =>
        Netns.List().Where(n => n.StartsWith($"pn-{lab}-", StringComparison.Ordinal))
            .Select(n => $"net:[{new FileInfo(Netns.PathOf(n)).Exists switch { true => Inode(Netns.PathOf(n)), false => "" }}]")
            .ToHashSet();

    private static string Inode(string path) => Tools.Run(null, "stat", "-L", "-c", "%i", path).StandardOutput.Trim();

    /// <summary>Processes that still mention the lab on their command line or live in one of its namespaces.</summary>
    private static List<string> ProcessesOf(string lab, HashSet<string> namespaces)
    {
        var found = new List<string>();
        foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var net = new FileInfo(Path.Combine(dir, "ns", "net")).LinkTarget ?? "";
                if (namespaces.Contains(net) || cmdline.Contains($"/labs/{lab}/", StringComparison.Ordinal) || cmdline.Contains($"--name {lab} ", StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(dir)}: {cmdline}");
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    [PrivilegedFact]
    public void Up_WithABadName_FailsNamingIt()
    {
        var result = ProcessRunner.Run(null, RepoPaths.Bin("podnet"), ["lab", "up", "--name", "Bad_Name"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'Bad_Name'", result.StandardError);
    }
}
