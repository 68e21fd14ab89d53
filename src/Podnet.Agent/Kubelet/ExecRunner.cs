using System.Diagnostics;
using Podnet.ApiServer.Streaming;
using Podnet.Kernel;

namespace Podnet.Agent.Kubelet;

/// <summary>
/// Runs one exec: the command line (from <see cref="Runtime.PodSandbox.EnterCommand"/>) with the
/// container's environment, its stdin, stdout and stderr copied to and from the session as they
/// come — through pipes, or with a TTY through a pseudo-terminal whose size follows the
/// client's — and returns how it ended.
/// </summary>
/// <remarks>
/// With a TTY the process opens the terminal's slave itself (sh's redirections) and makes it its
/// controlling terminal (setsid -c), so job control and ^C behave as in a terminal. When the
/// client goes away the process and its children are killed, as the CRI streaming server does.
/// Output that children of the command still hold open after it exits is copied for one more
/// second, so `sh -c 'daemon &'` returns.
/// </remarks>
public static class ExecRunner
{
    public static async Task<StreamStatus> RunAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, bool tty, IExecSession session, CancellationToken token)
    {
        var pty = tty ? Pty.Open() : null;
        try
        {
            return await RunAsync(argv, environment, pty, session, token).ConfigureAwait(false);
        }
        finally
        {
            pty?.Dispose();
        }
    }

    private static async Task<StreamStatus> RunAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, Pty? pty, IExecSession session, CancellationToken token)
    {
        var tty = pty is not null;
        if (pty is not null && session.Resize is { } sizes)
        {
            // kubectl sends its terminal's size as soon as it is connected: give the terminal
            // that size before the command starts, so its first look at it is right.
            using var first = CancellationTokenSource.CreateLinkedTokenSource(token);
            first.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                var size = await sizes.ReadAsync(first.Token).ConfigureAwait(false);
                pty.Resize(size.Width, size.Height);
            }
            catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
            }
        }
        var info = new ProcessStartInfo(pty is null ? argv[0] : "/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (pty is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("exec /usr/bin/setsid -c \"$@\" <\"$0\" >\"$0\" 2>&1");
            info.ArgumentList.Add(pty.SlavePath);
        }
        foreach (var word in pty is null ? argv.Skip(1) : argv)
        {
            info.ArgumentList.Add(word);
        }
        info.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        if (tty && !environment.ContainsKey("TERM"))
        {
            info.Environment["TERM"] = "xterm";
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {argv[0]}");
        using var kill = token.Register(() => Kill(process));
        Task[] pumps;
        if (pty is null)
        {
            pumps =
            [
                CopyInAsync(session.Stdin, process.StandardInput.BaseStream, token),
                CopyOutAsync(process.StandardOutput.BaseStream, session.Stdout, token),
                CopyOutAsync(process.StandardError.BaseStream, session.Stderr, token),
            ];
        }
        else
        {
            process.StandardInput.Close();
            var master = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(pty.Master.DangerousGetHandle(), ownsHandle: false), FileAccess.ReadWrite, 0);
            pumps =
            [
                CopyInAsync(session.Stdin, master, token, closeWhenDone: false),
                Task.Run(() => ReadTerminal(master, session.Stdout, token), CancellationToken.None),
                ResizeAsync(pty, session, token),
            ];
        }
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var outputs = pty is null ? pumps[1..] : pumps[1..2];
        await Task.WhenAny(Task.WhenAll(outputs), Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
        if (pty is not null && !outputs[0].IsCompleted)
        {
            // A child still holds the terminal: end it, so that the blocked read returns before
            // the master is closed (a read blocked on a closed descriptor would never return).
            Kill(process);
            await Task.WhenAny(outputs[0], Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
        }
        return token.IsCancellationRequested ? StreamStatus.Error("the client went away") : StreamStatus.Exited(process.ExitCode);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    private static async Task CopyInAsync(Stream? from, Stream to, CancellationToken token, bool closeWhenDone = true)
    {
        try
        {
            if (from is not null)
            {
                var buffer = new byte[32 * 1024];
                int n;
                while ((n = await from.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    await to.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                    await to.FlushAsync(token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            if (closeWhenDone)
            {
                to.Dispose(); // the process reads end of input
            }
        }
    }

    private static async Task CopyOutAsync(Stream from, Stream? to, CancellationToken token)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                if (to is not null)
                {
                    await to.WriteAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
        }
    }

    /// <summary>Blocking reads of the terminal's master (EIO once every slave is closed ends it).</summary>
    private static void ReadTerminal(FileStream master, Stream? to, CancellationToken token)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int n;
            while ((n = master.Read(buffer)) > 0)
            {
                to?.WriteAsync(buffer.AsMemory(0, n), token).AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException)
        {
        }
    }

    private static async Task ResizeAsync(Pty pty, IExecSession session, CancellationToken token)
    {
        if (session.Resize is not { } sizes)
        {
            return;
        }
        try
        {
            await foreach (var size in sizes.ReadAllAsync(token).ConfigureAwait(false))
            {
                try
                {
                    pty.Resize(size.Width, size.Height);
                }
                catch (KernelException)
                {
                    // the terminal is gone with its process
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
