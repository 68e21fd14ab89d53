using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Podnet.Agent.Runtime;

/// <summary>A readiness, liveness or startup probe's action, as the pod spec gives it.</summary>
public abstract record ProbeAction
{
    public sealed record TcpSocket(int Port) : ProbeAction;

    /// <param name="Scheme">HTTP or HTTPS.</param>
    public sealed record HttpGet(int Port, string Path, string Scheme, IReadOnlyList<KeyValuePair<string, string>> Headers) : ProbeAction;

    public sealed record Exec(IReadOnlyList<string> Command) : ProbeAction;
}

/// <summary>
/// Runs probes the way the kubelet does: from the node to the pod's address for tcpSocket and
/// httpGet — success is a connection, or an HTTP status from 200 to 399 — and inside the pod
/// for exec, where success is exit status 0.
/// </summary>
/// <remarks>
/// Every socket comes from <paramref name="socketFactory"/>, so the caller decides which
/// namespace probes leave from (the agent: its node's; a test: a namespace it made), and no
/// probe can ever leave from another namespace by accident.
/// </remarks>
public sealed class Probes(Func<AddressFamily, Socket> socketFactory)
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        ConnectCallback = async (context, token) =>
        {
            var endpoint = (IPEndPoint)(context.DnsEndPoint.Host is var h && IPAddress.TryParse(h.Trim('[', ']'), out var a)
                ? new IPEndPoint(a, context.DnsEndPoint.Port)
                : throw new HttpRequestException($"probes connect to addresses, not {h}"));
            var socket = socketFactory(endpoint.AddressFamily);
            try
            {
                await socket.ConnectAsync(endpoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    /// <summary>True when the probe succeeds within <paramref name="timeout"/>.</summary>
    /// <param name="shimPid">The container's shim: an exec probe runs in the container's namespaces (<see cref="PodSandbox.TargetOf"/>); 0 for the pod's.</param>
    public async Task<bool> RunAsync(ProbeAction action, IPAddress podIP, PodSandbox sandbox, TimeSpan timeout, int shimPid = 0)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            switch (action)
            {
                case ProbeAction.TcpSocket tcp:
                    using (var socket = socketFactory(podIP.AddressFamily))
                    {
                        await socket.ConnectAsync(new IPEndPoint(podIP, tcp.Port), deadline.Token);
                    }
                    return true;
                case ProbeAction.HttpGet http:
                    var host = podIP.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{podIP}]" : podIP.ToString();
                    using (var request = new HttpRequestMessage(HttpMethod.Get, $"{http.Scheme.ToLowerInvariant()}://{host}:{http.Port}{(http.Path.StartsWith('/') ? "" : "/")}{http.Path}"))
                    {
                        request.Headers.TryAddWithoutValidation("User-Agent", "kube-probe/1.33");
                        foreach (var (name, value) in http.Headers)
                        {
                            request.Headers.TryAddWithoutValidation(name, value);
                        }
                        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                        return (int)response.StatusCode is >= 200 and < 400;
                    }
                case ProbeAction.Exec exec:
                    return await ExecAsync(sandbox.TargetOf(shimPid), exec.Command, deadline.Token);
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or HttpRequestException or IOException)
        {
            return false;
        }
    }

    private static async Task<bool> ExecAsync(int target, IReadOnlyList<string> command, CancellationToken token)
    {
        if (command.Count == 0)
        {
            return false;
        }
        var argv = PodSandbox.EnterArgv(target, command);
        var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in argv.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(token), process.StandardError.ReadToEndAsync(token));
        try
        {
            await process.WaitForExitAsync(token);
            await drain;
            return process.ExitCode == 0;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return false;
        }
    }
}
