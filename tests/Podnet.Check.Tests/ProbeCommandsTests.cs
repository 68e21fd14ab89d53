using Podnet.Check;

namespace Podnet.Check.Tests;

/// <summary>The reading of the tools' real output (captured from curl 7.88, dig 9.18 and iputils ping here).</summary>
public sealed class ProbeCommandsTests
{
    private static readonly Probe s_http = new(ProbeSite.InPod("client"), ProbeKind.Http, "http://10.244.2.2:8080/hostname", TimeSpan.FromSeconds(2));
    private static readonly Probe s_dns = new(ProbeSite.InPod("client"), ProbeKind.Dns, "web.ns.svc.cluster.local", TimeSpan.FromSeconds(2), "10.96.4.5");
    private static readonly Probe s_ping = new(ProbeSite.InPod("client"), ProbeKind.PingFullMtu, "10.244.2.2", TimeSpan.FromSeconds(2));

    [Fact]
    public void Curl_Answer_IsAConnectionWithWhoAnswered()
    {
        var seen = ProbeCommands.Read(s_http, new ExecOutput(0, "server-b\nHTTP 200 from 10.244.2.2:8080", ""));
        Assert.Equal(new Observation(Outcome.Connect, "HTTP 200 from 10.244.2.2:8080: server-b"), seen);
    }

    [Fact]
    public void Curl_RefusedAndTimedOut()
    {
        Assert.Equal(Outcome.Refuse, ProbeCommands.Read(s_http, new ExecOutput(7, "\nHTTP 000 from :0", "curl: (7) Failed to connect to 10.96.4.6 port 80 after 1 ms: Couldn't connect to server")).Outcome);
        var drop = ProbeCommands.Read(s_http, new ExecOutput(28, "\nHTTP 000 from :0", "curl: (28) Connection timed out after 2001 milliseconds"));
        Assert.Equal(new Observation(Outcome.Drop, "curl: (28) Connection timed out after 2001 milliseconds"), drop);
        Assert.Null(ProbeCommands.Read(s_http, new ExecOutput(6, "", "curl: (6) Could not resolve host: web")).Outcome);
    }

    [Fact]
    public void Dig_AnswerMustHoldTheExpectedAddress()
    {
        Assert.Equal(Outcome.Connect, ProbeCommands.Read(s_dns, new ExecOutput(0, "10.96.4.5\n", "")).Outcome);
        var wrong = ProbeCommands.Read(s_dns, new ExecOutput(0, "10.96.9.9\n", ""));
        Assert.Null(wrong.Outcome);
        Assert.Equal("web.ns.svc.cluster.local -> 10.96.9.9, not 10.96.4.5", wrong.Evidence);
        Assert.Null(ProbeCommands.Read(s_dns, new ExecOutput(0, "", "")).Outcome);
        Assert.Equal(Outcome.Drop, ProbeCommands.Read(s_dns, new ExecOutput(9, ";; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached\n", "")).Outcome);
        Assert.Equal(Outcome.Refuse, ProbeCommands.Read(s_dns, new ExecOutput(9, ";; communications error to 10.96.0.10#53: connection refused\n", "")).Outcome);
    }

    [Fact]
    public void Ping_FullMtu_ReplyTooLongAndUnreachable()
    {
        var ok = ProbeCommands.Read(s_ping, new ExecOutput(0, "mtu 1500, payload 1472, DF\nPING 10.244.2.2 (10.244.2.2) 1472(1500) bytes of data.\n1480 bytes from 10.244.2.2: icmp_seq=1 ttl=62 time=0.1 ms\n", ""));
        Assert.Equal(Outcome.Connect, ok.Outcome);
        Assert.StartsWith("mtu 1500, payload 1472, DF: 1480 bytes from 10.244.2.2", ok.Evidence, StringComparison.Ordinal);
        var big = ProbeCommands.Read(s_ping, new ExecOutput(1, "mtu 1500, payload 1472, DF\n", "ping: local error: message too long, mtu=1450"));
        Assert.Null(big.Outcome);
        Assert.Contains("mtu=1450", big.Evidence, StringComparison.Ordinal);
        Assert.Equal(Outcome.Refuse, ProbeCommands.Read(s_ping, new ExecOutput(1, "From 10.244.1.1 icmp_seq=1 Packet filtered\n", "")).Outcome);
        Assert.Equal(Outcome.Drop, ProbeCommands.Read(s_ping, new ExecOutput(1, "mtu 1500, payload 1472, DF\n", "")).Outcome);
    }

    [Fact]
    public void Argv_FullMtuSubtractsTheHeadersOfTheFamily()
    {
        Assert.Contains("s=$((m - 28))", ProbeCommands.Argv(s_ping)[2], StringComparison.Ordinal);
        Assert.Contains("s=$((m - 48))", ProbeCommands.Argv(s_ping with { Target = "fd00:10:244:2::2" })[2], StringComparison.Ordinal);
    }

    /// <summary>The UDP probe's real command (bash /dev/udp, dd) against a server on loopback: a reply is a connection, a closed port a refusal.</summary>
    [Fact]
    public async Task Udp_RealCommandOnLoopback_ReplyConnectsAndClosedPortRefuses()
    {
        using var server = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)server.Client.LocalEndPoint!).Port;
        var answer = Task.Run(async () =>
        {
            var got = await server.ReceiveAsync();
            Assert.Equal("hostname", System.Text.Encoding.ASCII.GetString(got.Buffer));
            await server.SendAsync("server-b"u8.ToArray(), got.RemoteEndPoint);
        });
        var probe = new Probe(ProbeSite.InPod("client"), ProbeKind.Udp, $"127.0.0.1:{port}", TimeSpan.FromSeconds(5));
        Assert.Equal(new Observation(Outcome.Connect, "udp reply: server-b"), ProbeCommands.Read(probe, await RunAsync(ProbeCommands.Argv(probe))));
        await answer;
        server.Close();
        var closed = ProbeCommands.Read(probe, await RunAsync(ProbeCommands.Argv(probe)));
        Assert.Equal(Outcome.Refuse, closed.Outcome);
    }

    [Fact]
    public void Udp_Silence_IsADrop() =>
        Assert.Equal(new Observation(Outcome.Drop, "no udp reply"), ProbeCommands.Read(new Probe(ProbeSite.InPod("c"), ProbeKind.Udp, "10.96.0.5:81", TimeSpan.FromSeconds(2)), new ExecOutput(124, "", "")));

    private static async Task<ExecOutput> RunAsync(IReadOnlyList<string> argv)
    {
        var info = new System.Diagnostics.ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in argv.Skip(1))
        {
            info.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(bound.Token);
        return new ExecOutput(process.ExitCode, await stdout, await stderr);
    }
}
