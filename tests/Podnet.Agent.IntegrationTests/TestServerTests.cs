using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.TestServer;
using Podnet.Core.Net;

namespace Podnet.Agent.IntegrationTests;

/// <summary>The built-in test server in pod namespaces, reached by real clients from another namespace.</summary>
public sealed class TestServerTests
{
    /// <summary>A "node" namespace with a bridge, and pods on it numbered from 2: 10.77.0.N/24.</summary>
    private static (TestNamespace Node, List<TestNamespace> Pods) Pods(NetnsScope scope, int count)
    {
        var node = scope.Create("node");
        node.Rt.CreateBridge("br0");
        node.Rt.SetUp("br0");
        node.Rt.AddAddress("br0", AddressPrefix.Parse("10.77.0.1/24"));
        var pods = new List<TestNamespace>();
        for (var i = 0; i < count; i++)
        {
            var pod = scope.Create($"pod{i}");
            node.Rt.CreateVeth($"v{i}", "eth0", pod.Netns);
            node.Rt.SetMaster($"v{i}", "br0");
            node.Rt.SetUp($"v{i}");
            pod.Rt.AddAddress("eth0", AddressPrefix.Parse($"10.77.0.{i + 2}/24"));
            pod.Rt.SetUp("eth0");
            pods.Add(pod);
        }
        return (node, pods);
    }

    [PrivilegedFact]
    public async Task OneHost_ServesManyPods_EachInItsOwnNamespace_CurlSeesTheRightPod()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 3);
        await using var host = new TestServerHost();
        for (var i = 0; i < pods.Count; i++)
        {
            host.Add($"default/web-{i}", new TestServerSpec($"web-{i}", [8080], [8081]), pods[i].Netns);
        }

        for (var i = 0; i < pods.Count; i++)
        {
            var curl = Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", $"http://10.77.0.{i + 2}:8080/hostname");
            Assert.True(curl.Success, curl.StandardError);
            Assert.Equal($"web-{i}", curl.StandardOutput);
        }
        // The caller's real address is seen (no NAT in between), and echo round-trips.
        var fromPod0 = Tools.Run(pods[0].Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.3:8080/clientip");
        Assert.StartsWith("10.77.0.2:", fromPod0.StandardOutput);
        Assert.Equal("a b", Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.4:8080/echo?msg=a%20b").StandardOutput);
        // The port is open only inside the pods' namespaces, not in the node's.
        Assert.Equal("7", Tools.Run(node.Netns, "curl", "-s", "-o", "/dev/null", "-w", "%{exitcode}", "--max-time", "5", "http://127.0.0.1:8080/").StandardOutput);
    }

    [PrivilegedFact]
    public async Task Udp_HostnameEchoClientip()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 1);
        await using var host = new TestServerHost();
        host.Add("p", new TestServerSpec("udp-pod", [], [9000]), pods[0].Netns);
        using var client = node.Netns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        await client.ConnectAsync(IPAddress.Parse("10.77.0.2"), 9000);

        async Task<string> Ask(string payload)
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(payload));
            var buffer = new byte[1024];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }

        Assert.Equal("udp-pod", await Ask("hostname"));
        Assert.Equal("ping", await Ask("echo ping"));
        Assert.Equal($"10.77.0.1:{((IPEndPoint)client.LocalEndPoint!).Port}", await Ask("clientip"));
        Assert.Equal("udp-pod", await Ask("whatever"));
    }

    [PrivilegedFact]
    public async Task Remove_ClosesThePodsPorts()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 1);
        await using var host = new TestServerHost();
        host.Add("p", new TestServerSpec("gone", [8080], []), pods[0].Netns);
        Assert.True(await host.RemoveAsync("p"));
        Assert.False(await host.RemoveAsync("p"));
        var result = node.Netns.Run(() => ConnectProbe.RunAsync("10.77.0.2", 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(2))).GetAwaiter().GetResult();
        Assert.Equal(ConnectOutcome.Refused, result.Outcome);
    }

    [PrivilegedFact]
    public void PodnetServeAndConnect_Binaries_PrintTheAgnhostWords()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 1);
        var podnet = RepoPaths.Bin("podnet");
        using var server = pods[0].Netns.Run(() => System.Diagnostics.Process.Start(podnet, ["serve", "--http-port", "8080", "--udp-port", "8081", "--name", "cli-pod"])!);
        try
        {
            string Connect(params string[] args) => Tools.Run(node.Netns, podnet, ["connect", .. args]).StandardOutput.Trim();
            var connected = "";
            for (var i = 0; i < 50 && connected != "CONNECTED"; i++)
            {
                connected = Connect("10.77.0.2:8080");
                if (connected != "CONNECTED")
                {
                    Thread.Sleep(100);
                }
            }
            Assert.Equal("CONNECTED", connected);
            Assert.Equal("CONNECTED", Connect("10.77.0.2:8081", "--protocol", "udp"));
            Assert.Equal("REFUSED", Connect("10.77.0.2:9999"));
            Assert.Equal("REFUSED", Connect("10.77.0.2:9999", "--protocol", "udp", "--timeout", "2s"));
            // An address on the bridge's subnet that nobody has: ARP fails, the kernel reports
            // the host unreachable after its resolution timeout, or our deadline comes first.
            Assert.Matches("^(TIMEOUT|OTHER: No route to host)$", Connect("10.77.0.99:80", "--timeout", "500ms"));
            var exit = Tools.Run(node.Netns, podnet, "connect", "10.77.0.2:9999");
            Assert.Equal(1, exit.ExitCode);
            var bad = Tools.Run(node.Netns, podnet, "connect", "10.77.0.2");
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("HOST:PORT", bad.StandardError);
        }
        finally
        {
            server.Kill();
            server.WaitForExit();
        }
    }

    [PrivilegedFact]
    public async Task PodServerDirectory_ServesWhatTheDirectoryLists()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 2);
        var dir = Directory.CreateTempSubdirectory("podnet-serve-").FullName;
        try
        {
            await using var host = new TestServerHost();
            var directory = new PodServerDirectory(dir, host);
            PodServerDirectory.Write(dir, "default_a", new PodServerEntry("a", pods[0].Netns.Path, [8080], []));
            PodServerDirectory.Write(dir, "default_b", new PodServerEntry("b", pods[1].Netns.Path, [8080], [8081]));
            Assert.False(PodServerDirectory.IsServing(dir, "default_a"));
            await directory.SyncAsync();
            Assert.True(PodServerDirectory.IsServing(dir, "default_a"));
            Assert.Equal("a", Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.2:8080/hostname").StandardOutput);
            Assert.Equal("b", Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.3:8080/hostname").StandardOutput);

            PodServerDirectory.Remove(dir, "default_a");
            await directory.SyncAsync();
            await directory.SyncAsync();
            Assert.Equal(["default_b"], host.Keys);
            Assert.False(PodServerDirectory.IsServing(dir, "default_a"));
            var gone = await node.Netns.Run(() => ConnectProbe.RunAsync("10.77.0.2", 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(2)));
            Assert.Equal(ConnectOutcome.Refused, gone.Outcome);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// bin/podnet-serve, the lab node's test-server process (NativeAOT): serves a pod once its
    /// file is in the directory, stops serving it once the file goes, ends on SIGTERM.
    /// </summary>
    [PrivilegedFact]
    public void PodnetServeBinary_FollowsTheDirectory()
    {
        using var scope = new NetnsScope();
        var (node, pods) = Pods(scope, 1);
        var dir = Directory.CreateTempSubdirectory("podnet-serve-").FullName;
        using var server = System.Diagnostics.Process.Start(RepoPaths.Bin("podnet-serve"), ["--pods-dir", dir])!;
        try
        {
            PodServerDirectory.Write(dir, "default_a", new PodServerEntry("a", pods[0].Netns.Path, [8080], []));
            for (var i = 0; i < 300 && !PodServerDirectory.IsServing(dir, "default_a"); i++)
            {
                Thread.Sleep(100);
            }
            Assert.True(PodServerDirectory.IsServing(dir, "default_a"));
            Assert.Equal("a", Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.2:8080/hostname").StandardOutput);

            PodServerDirectory.Remove(dir, "default_a");
            for (var i = 0; i < 300 && PodServerDirectory.IsServing(dir, "default_a"); i++)
            {
                Thread.Sleep(100);
            }
            Assert.False(PodServerDirectory.IsServing(dir, "default_a"));
            Assert.NotEqual(0, Tools.Run(node.Netns, "curl", "-sS", "--max-time", "5", "http://10.77.0.2:8080/hostname").ExitCode);

            Tools.Run(null, "kill", "-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(server.WaitForExit(30_000));
            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
                server.WaitForExit();
            }
            Directory.Delete(dir, recursive: true);
        }
    }
}
