using System.Diagnostics;

namespace Podnet.ApiServer.Tests.Server;

public sealed class CliTests
{
    private static (int ExitCode, string Error) Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(Podnet.Testing.RepoPaths.Bin("podnet")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments.Prepend("server"))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("podnet server did not exit on bad flags");
        }
        return (process.ExitCode, error.Result);
    }

    [Theory]
    [InlineData("--controllers", "scheduler,bogus", "--controllers: unknown controller \"bogus\"")]
    [InlineData("--service-cidr", "10.96.0.1/16", "--service-cidr 10.96.0.1/16: not a CIDR like 10.96.0.0/16")]
    [InlineData("--node-port-range", "32767-30000", "'32767-30000' is not a port range like 30000-32767")]
    [InlineData("--bind", "localhost", "--bind localhost: not an IP address")]
    [InlineData("--request-timeout", "5x", "--request-timeout: '5x' is not a duration like 60s, 1m0s or 500ms")]
    [InlineData("--max-requests-inflight", "-1", "must be 0 (no limit) or more")]
    public void BadFlags_ExitWithTheReason_AndWriteNothing(string flag, string value, string message)
    {
        var state = Directory.CreateTempSubdirectory("podnet-cli-").FullName;
        try
        {
            var (code, error) = Run("--state", state, "--port", "0", flag, value);
            Assert.Equal(2, code);
            Assert.Contains(message, error);
            Assert.False(File.Exists(Path.Combine(state, "kubeconfig")));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public void MissingState_IsAUsageError()
    {
        var (code, error) = Run("--port", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--state", error);
    }
}
