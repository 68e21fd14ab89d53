using System.Runtime.InteropServices;

namespace Podnet.Front;

/// <summary>
/// Replaces this process (execve) with another program: the full CLI for the commands the front
/// does not answer, nsenter for `podnet exec`. The process keeps its pid, its stdio and its
/// parent, so exit codes and signals are the program's own, as if it had been started directly.
/// </summary>
internal static partial class Handoff
{
    /// <summary>
    /// The full CLI (src/Podnet.Cli): podnet-full beside this binary, or $PODNET_FULL_CLI (the
    /// lab test sets it to a path that does not exist, to prove the front answered by itself).
    /// </summary>
    public static string FullCli => Environment.GetEnvironmentVariable("PODNET_FULL_CLI") is { Length: > 0 } path ? path : Path.Combine(AppContext.BaseDirectory, "podnet-full");

    /// <summary>Runs the full CLI with <paramref name="args"/>; returns only when it cannot (with the exit code to use).</summary>
    public static int ToFullCli(IReadOnlyList<string> args)
    {
        var path = FullCli;
        return Exec(path, [Environment.GetCommandLineArgs()[0], .. args], null, "podnet: cannot run " + path);
    }

    /// <summary>
    /// execve(<paramref name="path"/>, <paramref name="argv"/>) with <paramref name="environment"/>
    /// (null: this process's own). Returns only on failure, after printing <paramref name="failure"/>.
    /// </summary>
    /// <remarks>
    /// SIGPIPE is ignored in the new program, as it always was in what the full CLI runs: the
    /// .NET runtime ignores it, and Process.Start's children (the full CLI's nsenter for `podnet
    /// exec`) keep an ignored signal ignored, so `podnet exec POD -- sh -c 'yes | head -1'` has
    /// always seen yes fail with EPIPE rather than die of the signal. Set here explicitly, not left
    /// to whether this runtime has ignored it yet.
    /// </remarks>
    public static int Exec(string path, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? environment, string failure)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        const int SigPipe = 13;
        signal(SigPipe, 1); // SIG_IGN
        var argvArray = new string?[argv.Count + 1];
        for (var i = 0; i < argv.Count; i++)
        {
            argvArray[i] = argv[i];
        }
        if (environment is null)
        {
            execv(path, argvArray);
        }
        else
        {
            var envp = environment.Select(p => (string?)$"{p.Key}={p.Value}").Append(null).ToArray();
            execve(path, argvArray, envp);
        }
        var errno = Marshal.GetLastPInvokeError();
        Console.Error.WriteLine($"{failure}: {Marshal.GetPInvokeErrorMessage(errno)}");
        return 127;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execv(string path, string?[] argv);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int execve(string path, string?[] argv, string?[] envp);

    [LibraryImport("libc")]
    private static partial nint signal(int signal, nint handler);
}
