using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Podnet.ApiServer.Tests.Streaming;

/// <summary>
/// Real kubectl of the versions that speak only SPDY for these verbs (exec 1.27–1.29,
/// port-forward 1.27–1.30; 1.31+ port-forward tunnels SPDY through a WebSocket) against <see cref="SpdyTestHost"/>: the SPDY transport with a local
/// test backend (no kubelet, no pod), so that failures here are the transport's.
/// </summary>
public sealed class KubectlSpdyTests(ITestOutputHelper output)
{
    private static string KubectlOf(string version)
    {
        var path = $"/usr/lib/google-cloud-sdk/bin/kubectl.{version}";
        return File.Exists(path) ? path : throw new FileNotFoundException($"kubectl {version} is not at {path}");
    }

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.28")]
    [InlineData("1.29")]
    public async Task Exec_OutputStdinAndExitCode_AsKubectlSeesThem(string version)
    {
        var backend = new LocalProcessTestBackend();
        await using var host = await SpdyTestHost.StartAsync(backend);

        var echo = Run(host, version, null, "exec", "web", "--", "sh", "-c", "echo out; echo err >&2");
        Assert.True(echo.Code == 0, echo.Error);
        Assert.Equal("out\n", echo.Out);
        Assert.Contains("err", echo.Error, StringComparison.Ordinal);

        var cat = Run(host, version, "line one\nline two\n", "exec", "-i", "web", "--", "sh", "-c", "cat; echo done");
        Assert.True(cat.Code == 0, cat.Error);
        Assert.Equal("line one\nline two\ndone\n", cat.Out);

        var exit = Run(host, version, null, "exec", "web", "--", "sh", "-c", "exit 3");
        Assert.Equal(3, exit.Code);
        Assert.Contains("command terminated with exit code 3", exit.Error, StringComparison.Ordinal);

        var request = Assert.Single(backend.Requests, r => r.Command.SequenceEqual(["sh", "-c", "exit 3"]));
        Assert.Equal(("default", "web", "main"), (request.Namespace, request.Pod, request.Container));
        Assert.True(request is { Stdin: false, Stdout: true, Stderr: true, Tty: false });
    }

    [Fact]
    public async Task Exec_LargeStdinAndOutput_PassBeyondEveryWindow()
    {
        await using var host = await SpdyTestHost.StartAsync(new LocalProcessTestBackend());
        // 1 MiB each way: far past SPDY's 64 KiB windows, which kubectl never reopens.
        var input = string.Concat(Enumerable.Range(0, 16384).Select(i => $"{i:D63}\n"));
        var result = Run(host, "1.27", input, "exec", "-i", "web", "--", "cat");
        Assert.True(result.Code == 0, result.Error);
        Assert.Equal(input.Length, result.Out.Length);
        Assert.Equal(input, result.Out);
    }

    [Fact]
    public async Task Exec_StreamsOutputAsItComes_NotAtTheEnd()
    {
        await using var host = await SpdyTestHost.StartAsync(new LocalProcessTestBackend());
        var marker = Path.Combine(host.Home, "release");
        using var kubectl = Start(host, "1.28", "exec", "web", "--", "sh", "-c", $"echo first; while [ ! -e {marker} ]; do sleep 0.1; done; echo second");
        // The first line arrives while the command is still running: it waits for the marker.
        Assert.Equal("first", await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await File.WriteAllTextAsync(marker, "");
        Assert.Equal("second", await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        await kubectl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, kubectl.ExitCode);
    }

    [Fact]
    public async Task Exec_WithTty_SendsResizeAndMergesStderr()
    {
        await using var host = await SpdyTestHost.StartAsync(new LocalProcessTestBackend());
        // kubectl only asks for a TTY when its own stdin is a terminal: script(1) gives it one,
        // of a fixed size, which kubectl sends on the resize stream when the session starts.
        var command = $"stty cols 91 rows 17; KUBECONFIG={host.Kubeconfig} HOME={host.Home} {KubectlOf("1.29")} exec -it web -- sh -c 'sleep 1; echo from-stderr >&2; echo tty-done'";
        var info = new ProcessStartInfo("script", ["-qec", command, "/dev/null"]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        using var script = Process.Start(info)!;
        var outputTask = script.StandardOutput.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var text = await outputTask;
        output.WriteLine(text);
        Assert.Equal(0, script.ExitCode);
        Assert.Contains("resize 91x17", text, StringComparison.Ordinal);
        Assert.Contains("from-stderr", text, StringComparison.Ordinal);
        Assert.Contains("tty-done", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.28")]
    [InlineData("1.29")]
    [InlineData("1.30")]
    [InlineData("1.31")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task PortForward_CurlThroughIt_ReachesTheServer(string version)
    {
        using var server = new TinyHttpServer();
        await using var host = await SpdyTestHost.StartAsync(new LocalProcessTestBackend());
        using var kubectl = Start(host, version, "port-forward", "pod/web", $":{server.Port}");
        var line = await kubectl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? "";
        output.WriteLine(line);
        // "Forwarding from 127.0.0.1:LOCAL -> REMOTE"
        var local = int.Parse(line.Split(' ')[2].Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var curl = Tool("curl", "-sS", "--max-time", "20", $"http://127.0.0.1:{local}/hello");
                Assert.True(curl.Code == 0, curl.Error);
                Assert.Equal("hello from the pod\n", curl.Out);
            }
        }
        finally
        {
            kubectl.Kill(entireProcessTree: true);
            output.WriteLine(await kubectl.StandardError.ReadToEndAsync());
        }
        Assert.Equal(3, server.Served);
    }

    private (int Code, string Out, string Error) Run(SpdyTestHost host, string version, string? input, params string[] arguments)
    {
        using var process = Start(host, version, arguments);
        if (input is not null)
        {
            process.StandardInput.Write(input);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', arguments)} did not finish in 60 s: {stderr.Result}");
        }
        output.WriteLine($"kubectl {version} {string.Join(' ', arguments)}: {process.ExitCode}\n{stderr.Result}");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Process Start(SpdyTestHost host, string version, params string[] arguments)
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
        info.Environment["KUBECONFIG"] = host.Kubeconfig;
        info.Environment["HOME"] = host.Home;
        return Process.Start(info)!;
    }

    private static (int Code, string Out, string Error) Tool(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A one-response-a-connection HTTP server on 127.0.0.1, the pod's port in these tests.</summary>
    private sealed class TinyHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _served;

        public TinyHttpServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Served => Volatile.Read(ref _served);

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                _ = ServeAsync(socket);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            using (socket)
            using (var stream = new NetworkStream(socket))
            {
                var request = new StringBuilder();
                var buffer = new byte[1024];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var body = "hello from the pod\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
                Interlocked.Increment(ref _served);
                socket.Shutdown(SocketShutdown.Send);
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
