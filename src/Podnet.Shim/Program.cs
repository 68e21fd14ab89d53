using System.Diagnostics;
using System.Runtime.InteropServices;
using Podnet.Kernel;

namespace Podnet.Shim;

/// <summary>
/// <c>podnet-shim --log PATH --exit PATH [--max-bytes N] [--max-files N] -- COMMAND…</c>: runs
/// COMMAND with its stdin empty and its stdout and stderr read through pipes into a CRI-format
/// log at PATH (rotated at N bytes, N files kept), forwards SIGTERM and SIGINT to it, and when
/// it ends writes its exit status to the exit file (atomically) and exits with it.
/// </summary>
/// <remarks>
/// The agent starts one per container, detached, so a container and its log outlive an agent
/// that crashes; the agent reads only files. A command killed by a signal exits 128+signal,
/// as a shell reports it. Output still held by the command's children after it exits is read
/// for two more seconds, then the log is closed.
/// </remarks>
internal static class Program
{
    private static int Main(string[] args)
    {
        string? log = null;
        string? exit = null;
        long maxBytes = 10 * 1024 * 1024;
        var maxFiles = 3;
        var i = 0;
        for (; i < args.Length && args[i] != "--"; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                return Usage($"{args[i]} needs a value");
            }
            var value = args[i + 1];
            switch (args[i])
            {
                case "--log": log = value; break;
                case "--exit": exit = value; break;
                case "--max-bytes" when long.TryParse(value, out var bytes): maxBytes = bytes; break;
                case "--max-files" when int.TryParse(value, out var files): maxFiles = files; break;
                default: return Usage($"unknown option or bad value: {args[i]} {value}");
            }
        }
        if (log is null || exit is null || i + 1 >= args.Length)
        {
            return Usage("--log, --exit and a command after -- are needed");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        using var writer = new ContainerLogWriter(log, maxBytes, maxFiles);
        var info = new ProcessStartInfo(args[i + 1])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in args.AsSpan(i + 2))
        {
            info.ArgumentList.Add(argument);
        }
        int code;
        Process child;
        try
        {
            child = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            writer.Write(LogStream.Stderr, System.Text.Encoding.UTF8.GetBytes($"podnet-shim: cannot run {args[i + 1]}: {e.Message}\n"));
            WriteExit(exit, 127);
            return 127;
        }
        child.StandardInput.Close();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, child.Id, ProcessSignals.SigTerm));
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Forward(c, child.Id, 2));
        var readers = new[]
        {
            Pump(child.StandardOutput.BaseStream, LogStream.Stdout, writer),
            Pump(child.StandardError.BaseStream, LogStream.Stderr, writer),
        };
        child.WaitForExit();
        code = child.ExitCode;
        foreach (var reader in readers)
        {
            reader.Join(TimeSpan.FromSeconds(2));
        }
        writer.Complete(LogStream.Stdout);
        writer.Complete(LogStream.Stderr);
        WriteExit(exit, code);
        return code;
    }

    private static void Forward(PosixSignalContext context, int pid, int signal)
    {
        context.Cancel = true;
        ProcessSignals.Kill(pid, signal);
    }

    private static Thread Pump(Stream stream, LogStream which, ContainerLogWriter writer)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                writer.Write(which, buffer.AsSpan(0, n));
            }
        }) { IsBackground = true, Name = $"log {which}" };
        thread.Start();
        return thread;
    }

    private static void WriteExit(string path, int code)
    {
        File.WriteAllText(path + ".tmp", code.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"podnet-shim: {problem}\nusage: podnet-shim --log PATH --exit PATH [--max-bytes N] [--max-files N] -- COMMAND…");
        return 2;
    }
}
