using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.ApiServer.Streaming;

namespace Podnet.ApiServer.Tests.Streaming;

/// <summary>
/// A test backend, standing in for the kubelet: exec runs the command as a local process of
/// the test (no pod, no namespaces), its output streamed as it comes; each terminal resize is
/// reported on stdout as "resize WxH" so that a test can see it arrive; port-forward connects to
/// 127.0.0.1 at the asked port.
/// </summary>
internal sealed class LocalProcessTestBackend : IStreamBackend
{
    public List<ExecRequest> Requests { get; } = [];

    public Task<ExecRequest> ResolveExecAsync(ExecRequest request, CancellationToken token) => Task.FromResult(request);

    public Task<PortForwardRequest> ResolvePortForwardAsync(PortForwardRequest request, CancellationToken token) => Task.FromResult(request);

    public async Task ExecAsync(ExecRequest request, IExecSession session, CancellationToken token)
    {
        lock (Requests)
        {
            Requests.Add(request);
        }
        var info = new ProcessStartInfo(request.Command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in request.Command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            await session.CompleteAsync(StreamStatus.Error($"failed to start {request.Command[0]}: {e.Message}"), token);
            return;
        }
        using (process)
        {
            var outputLock = new SemaphoreSlim(1, 1);
            var stdin = PumpStdinAsync(session.Stdin, process.StandardInput.BaseStream, token);
            var stdout = PumpAsync(process.StandardOutput.BaseStream, session.Stdout, outputLock, token);
            // With a TTY everything is on stdout, as from a terminal.
            var stderr = PumpAsync(process.StandardError.BaseStream, session.Stderr ?? session.Stdout, outputLock, token);
            var resize = ReportResizesAsync(session, outputLock, token);
            await process.WaitForExitAsync(token);
            await Task.WhenAll(stdout, stderr);
            await session.CompleteAsync(StreamStatus.Exited(process.ExitCode), token);
            _ = stdin;
            _ = resize;
        }
    }

    private static async Task PumpStdinAsync(Stream? from, Stream to, CancellationToken token)
    {
        try
        {
            if (from is not null)
            {
                await from.CopyToAsync(to, token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        finally
        {
            to.Close();
        }
    }

    private static async Task PumpAsync(Stream from, Stream? to, SemaphoreSlim outputLock, CancellationToken token)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await from.ReadAsync(buffer, token)) > 0)
        {
            if (to is null)
            {
                continue;
            }
            await outputLock.WaitAsync(token);
            try
            {
                await to.WriteAsync(buffer.AsMemory(0, read), token);
            }
            finally
            {
                outputLock.Release();
            }
        }
    }

    private static async Task ReportResizesAsync(IExecSession session, SemaphoreSlim outputLock, CancellationToken token)
    {
        if (session.Resize is null || session.Stdout is null)
        {
            return;
        }
        try
        {
            await foreach (var size in session.Resize.ReadAllAsync(token))
            {
                await outputLock.WaitAsync(token);
                try
                {
                    await session.Stdout.WriteAsync(Encoding.ASCII.GetBytes($"resize {size.Width}x{size.Height}\n"), token);
                }
                finally
                {
                    outputLock.Release();
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
    }

    public async Task<IPortForwardConnection> ConnectPortAsync(PortForwardRequest request, int port, CancellationToken token)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"dial tcp 127.0.0.1:{port}: {e.Message}", e);
        }
        return new TcpConnection(socket, port);
    }

    private sealed class TcpConnection : IPortForwardConnection
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;

        public TcpConnection(Socket socket, int port)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: false);
            Port = port;
            ToPod = new HalfCloser(_stream, socket);
        }

        public int Port { get; }

        public Stream FromPod => _stream;

        public Stream ToPod { get; }

        public Task<string?> Error { get; } = Task.FromResult<string?>(null);

        public ValueTask DisposeAsync()
        {
            _stream.Dispose();
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Writes to the socket; disposing shuts its sending side only.</summary>
    private sealed class HalfCloser(NetworkStream stream, Socket socket) : Stream
    {
        private int _closed;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => stream.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => stream.WriteAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Send);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }
            base.Dispose(disposing);
        }
    }
}
