using System.Diagnostics;
using System.Runtime.InteropServices;
using Podnet.Kernel;

namespace Podnet.Shim;

/// <summary>
/// <c>podnet-shim --log PATH --exit PATH [--max-bytes N] [--max-files N] [--stdin FIFO [--stdin-once]] -- COMMAND…</c>:
/// runs COMMAND with its stdin empty (or, with --stdin, fed from the named pipe FIFO: what each
/// writer of the pipe sends, in turn, as `kubectl attach -i` writes; with --stdin-once closed
/// after the first writer is done, as a container's stdinOnce) and its stdout and stderr read through pipes into a CRI-format
/// log at PATH (rotated at N bytes, N files kept), forwards SIGTERM and SIGINT to it (through nsenter), and when
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
        string? stdin = null;
        var stdinOnce = false;
        var i = 0;
        for (; i < args.Length && args[i] != "--"; i += 2)
        {
            if (args[i] == "--stdin-once")
            {
                stdinOnce = true;
                i--;
                continue;
            }
            if (i + 1 >= args.Length)
            {
                return Usage($"{args[i]} needs a value");
            }
            var value = args[i + 1];
            switch (args[i])
            {
                case "--log": log = value; break;
                case "--exit": exit = value; break;
                case "--stdin": stdin = value; break;
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
        // The handlers exist before the command does: a signal that arrives while it starts is
        // held and passed on once it has (the agent signals a shim only once it has a child).
        var started = -1;
        var pending = 0;
        void OnSignal(PosixSignalContext context, int signal)
        {
            lock (info)
            {
                if (started < 0)
                {
                    context.Cancel = true;
                    pending = signal;
                    return;
                }
            }
            Forward(context, started, signal);
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, ProcessSignals.SigTerm));
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, 2));
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
        if (stdin is null)
        {
            child.StandardInput.Close();
        }
        else
        {
            FeedStdin(stdin, stdinOnce, child.StandardInput.BaseStream);
        }
        lock (info)
        {
            started = child.Id;
        }
        if (pending != 0)
        {
            ForwardTo(started, pending);
        }
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

    /// <summary>
    /// Passes a signal on to the command. A pod's command runs under nsenter (and, in a PID
    /// namespace of its own, under unshare), which fork it and wait for it without passing
    /// signals on: so the signal goes to the command at the end of that chain, or to the chain's
    /// first process while the command has not started.
    /// </summary>
    private static void Forward(PosixSignalContext context, int pid, int signal)
    {
        context.Cancel = true;
        ForwardTo(pid, signal);
    }

    private static void ForwardTo(int pid, int signal)
    {
        // Just after the start the chain may still be forking (a launcher with no child yet, or
        // a child not yet exec'd): wait briefly for the command, so that it gets the signal
        // rather than a launcher that would die of it and leave the command running.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        var target = ProcessSignals.Innermost(pid, Launchers);
        while (target is null && ProcessSignals.IsAlive(pid) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
            target = ProcessSignals.Innermost(pid, Launchers);
        }
        ProcessSignals.Kill(target ?? pid, signal);
    }

    /// <summary>The programs between the shim and a container's command (PodSandbox.EnterArgv, PodSandbox.Start).</summary>
    private static readonly HashSet<string> Launchers = ["nsenter", "unshare"];

    /// <summary>
    /// Copies what each writer of the pipe sends into the command's stdin, one writer after the
    /// other (a reader's open waits for the next); with <paramref name="once"/> the command's
    /// stdin is closed when the first writer is done. A command that stops reading ends it.
    /// </summary>
    private static void FeedStdin(string fifo, bool once, Stream input)
    {
        new Thread(() =>
        {
            var buffer = new byte[64 * 1024];
            try
            {
                do
                {
                    using var pipe = Fifo.OpenReader(fifo);
                    int n;
                    while ((n = pipe.Read(buffer)) > 0)
                    {
                        input.Write(buffer.AsSpan(0, n));
                        input.Flush();
                    }
                }
                while (!once);
                input.Close();
            }
            catch (IOException)
            {
                // the command closed its stdin or ended
            }
            catch (KernelException e)
            {
                Console.Error.WriteLine($"podnet-shim: {e.Message}");
            }
        }) { IsBackground = true, Name = "stdin" }.Start();
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
        Console.Error.WriteLine($"podnet-shim: {problem}\nusage: podnet-shim --log PATH --exit PATH [--max-bytes N] [--max-files N] [--stdin FIFO [--stdin-once]] -- COMMAND…");
        return 2;
    }
}
