using System.Diagnostics;

namespace Podnet.Kernel;

/// <summary>The outcome of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Success => ExitCode == 0;
}

/// <summary>
/// Runs a tool (nft, conntrack) inside a network namespace. The process is forked from a
/// thread that has entered the namespace, and a child inherits the namespace of the thread
/// that forked it, so no nsenter or `ip netns exec` is needed.
/// </summary>
public static class ProcessRunner
{
    public static ProcessResult Run(Netns? netns, string file, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = standardInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = netns is null ? Start(info) : netns.Run(() => Start(info));
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Process Start(ProcessStartInfo info)
    {
        try
        {
            return Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"could not start {info.FileName}: {e.Message} (is it installed?)", e);
        }
    }
}
