using System.Diagnostics;

namespace Podnet.ApiServer.Tests.Kubectl;

internal sealed record KubectlResult(int ExitCode, string Out, string Error);

/// <summary>
/// The real kubectl, found on PATH (or at $PODNET_KUBECTL), run against a test server with its
/// own kubeconfig and a private HOME and cache, so that nothing outside the test is read or kept.
/// </summary>
internal sealed class Kubectl(string kubeconfig, string home)
{
    public static string Path =>
        Environment.GetEnvironmentVariable("PODNET_KUBECTL") is { Length: > 0 } explicitPath ? explicitPath
        : Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => System.IO.Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException("kubectl is not on PATH (set PODNET_KUBECTL to its path): these tests check the server with the real kubectl");

    public KubectlResult Run(params string[] arguments) => RunWithInput(null, arguments);

    public KubectlResult RunWithInput(string? input, params string[] arguments)
    {
        using var process = Start(arguments, input is not null);
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', arguments)} did not finish in 60 s");
        }
        return new KubectlResult(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs, expecting success; returns standard output.</summary>
    public string Ok(params string[] arguments)
    {
        var result = Run(arguments);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Error}");
        return result.Out;
    }

    public Process Start(string[] arguments, bool redirectInput = false)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var argument in arguments.Append($"--cache-dir={System.IO.Path.Combine(home, "cache")}"))
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["KUBECONFIG"] = kubeconfig;
        info.Environment["HOME"] = home;
        return Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
    }
}
