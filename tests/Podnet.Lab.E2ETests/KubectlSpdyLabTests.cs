using System.Diagnostics;
using k8s.Models;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A one-node lab for <see cref="KubectlSpdyLabTests"/>: a pod with a shell's worth of command
/// (sleep) to exec into, a pod that writes a line a second to attach to, and a web server pod.
/// </summary>
public sealed class SpdyLabFixture : IAsyncLifetime
{
    private readonly TempLab _lab = new("s");

    public string Kubeconfig => (string)_lab.Status["kubeconfig"]!;

    public string Home { get; } = Directory.CreateTempSubdirectory("spdy-lab-home-").FullName;

    public async Task InitializeAsync()
    {
        if (!Privileges.CanMakeNamespaces)
        {
            return;
        }
        try
        {
            _lab.Up("--nodes", "1");
            await _lab.View.RunPodAsync(CommandPod("shell", ["sleep", "3600"]), TimeSpan.FromSeconds(120));
            await _lab.View.RunPodAsync(LabFixtureView.ServerPod("web", "n1"), TimeSpan.FromSeconds(120));
            await _lab.View.RunPodAsync(CommandPod("ticker", ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]), TimeSpan.FromSeconds(120));
        }
        catch
        {
            _lab.Dispose();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        _lab.Dispose();
        Directory.Delete(Home, recursive: true);
        return Task.CompletedTask;
    }

    private static V1Pod CommandPod(string name, string[] command) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox", Command = command }] },
    };
}

/// <summary>
/// kubectl 1.27–1.29, which speak only SPDY/3.1 for exec, attach and cp, against a lab: the
/// API server's SPDY transport in front of the kubelet of the pod's node.
/// </summary>
public sealed class KubectlSpdyLabTests(SpdyLabFixture lab) : IClassFixture<SpdyLabFixture>
{
    [PrivilegedTheory]
    [InlineData("1.27")]
    [InlineData("1.28")]
    [InlineData("1.29")]
    public void Exec_RunsInThePod_WithOutputStdinAndExitCode(string version)
    {
        var echo = Run(version, null, "exec", "shell", "--", "sh", "-c", "hostname; echo err >&2");
        Assert.True(echo.Code == 0, echo.Error);
        Assert.Equal("shell\n", echo.Out);
        Assert.Contains("err", echo.Error, StringComparison.Ordinal);

        var cat = Run(version, "one\ntwo\n", "exec", "-i", "shell", "--", "sh", "-c", "cat; echo done");
        Assert.True(cat.Code == 0, cat.Error);
        Assert.Equal("one\ntwo\ndone\n", cat.Out);

        var exit = Run(version, null, "exec", "shell", "--", "sh", "-c", "exit 3");
        Assert.Equal(3, exit.Code);
        Assert.Contains("command terminated with exit code 3", exit.Error, StringComparison.Ordinal);
    }

    [PrivilegedTheory]
    [InlineData("1.27")]
    [InlineData("1.30")]
    [InlineData("1.31")]
    [InlineData("1.33")]
    public async Task PortForward_CurlThroughIt_ReachesThePod(string version)
    {
        using var kubectl = Start(version, "port-forward", "pod/web", ":8080");
        var line = await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? "";
        try
        {
            // "Forwarding from 127.0.0.1:LOCAL -> 8080"
            var local = line.Split(' ')[2].Split(':')[1];
            for (var i = 0; i < 3; i++)
            {
                using var curl = Process.Start(new ProcessStartInfo("curl", ["-sS", "--max-time", "20", $"http://127.0.0.1:{local}/hostname"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                var body = await curl.StandardOutput.ReadToEndAsync();
                var error = await curl.StandardError.ReadToEndAsync();
                await curl.WaitForExitAsync();
                Assert.True(curl.ExitCode == 0, $"{line}: {error}");
                Assert.Equal("web", body.Trim());
            }
        }
        finally
        {
            kubectl.Kill(entireProcessTree: true);
        }
    }

    [PrivilegedFact]
    public async Task Exec_StreamsBothWays_WhileTheCommandRuns()
    {
        using var kubectl = Start("1.28", "exec", "-i", "shell", "--", "sh", "-c", "echo first; read answer; echo got $answer");
        // "first" comes while the command waits for a line that is only sent after it.
        Assert.Equal("first", await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await kubectl.StandardInput.WriteLineAsync("go");
        await kubectl.StandardInput.FlushAsync();
        Assert.Equal("got go", await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        kubectl.StandardInput.Close();
        await kubectl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, kubectl.ExitCode);
    }

    [PrivilegedFact]
    public async Task Exec_WithTty_GetsATerminalOfTheClientsSize()
    {
        // kubectl asks for a TTY only when its stdin is one: script(1) gives it a terminal of
        // 17 rows and 91 columns, which kubectl sends on the resize stream.
        var command = $"stty cols 91 rows 17; KUBECONFIG={lab.Kubeconfig} HOME={lab.Home} {KubectlOf("1.29")} exec -it shell -- sh -c 'test -t 0 && echo is-a-tty; sleep 1; stty size'";
        using var script = Process.Start(new ProcessStartInfo("script", ["-qec", command, "/dev/null"]) { RedirectStandardOutput = true, RedirectStandardInput = true })!;
        var output = script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var text = await output;
        Assert.True(script.ExitCode == 0, text);
        Assert.Contains("is-a-tty", text, StringComparison.Ordinal);
        Assert.Contains("17 91", text, StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public void Cp_BothWays_ThroughExecAndTar()
    {
        var local = Path.Combine(lab.Home, "cp-in.txt");
        var content = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i}\n"));
        File.WriteAllText(local, content);
        var up = Run("1.27", null, "cp", local, "shell:/tmp/spdy-cp.txt");
        Assert.True(up.Code == 0, up.Error);
        var seen = Run("1.27", null, "exec", "shell", "--", "sh", "-c", "wc -l < /tmp/spdy-cp.txt");
        Assert.Equal("2000", seen.Out.Trim());
        var back = Path.Combine(lab.Home, "cp-out.txt");
        var down = Run("1.27", null, "cp", "shell:/tmp/spdy-cp.txt", back);
        Assert.True(down.Code == 0, down.Error);
        Assert.Equal(content, File.ReadAllText(back));
    }

    [PrivilegedFact]
    public async Task Attach_ShowsTheContainersOutputAsItComes()
    {
        using var kubectl = Start("1.27", "attach", "ticker");
        string? line;
        do
        {
            line = await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        while (line is not null && !line.StartsWith("tick ", StringComparison.Ordinal));
        var first = int.Parse(line!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"tick {first + 1}", await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        kubectl.Kill(entireProcessTree: true);
    }

    private static string KubectlOf(string version) => $"/usr/lib/google-cloud-sdk/bin/kubectl.{version}";

    private (int Code, string Out, string Error) Run(string version, string? input, params string[] arguments)
    {
        using var process = Start(version, arguments);
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(90_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {version} {string.Join(' ', arguments)} did not finish in 90 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private Process Start(string version, params string[] arguments)
    {
        var info = new ProcessStartInfo(KubectlOf(version))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["KUBECONFIG"] = lab.Kubeconfig;
        info.Environment["HOME"] = lab.Home;
        return Process.Start(info)!;
    }
}
