using Podnet.Agent.Runtime;

namespace Podnet.Agent.Tests;

public sealed class ContainerPlannerTests
{
    private static ContainerSpec Spec(string image, string[]? command = null, string[]? args = null, params (int, string)[] ports) =>
        new("c", image, command ?? [], args ?? [], ports);

    private static string Show(ContainerRun run) => run switch
    {
        ContainerRun.Process p => "process " + string.Join(' ', p.Argv),
        ContainerRun.BuiltInServer s => $"server http={string.Join(',', s.HttpPorts)} udp={string.Join(',', s.UdpPorts)}{(s.HostnameOnly ? " hostname-only" : "")}",
        ContainerRun.Pause => "pause",
        _ => "?",
    };

    [Theory]
    [InlineData("busybox", new[] { "sh", "-c", "sleep 1" }, new string[0], "process sh -c sleep 1")]
    [InlineData("busybox", new[] { "sleep" }, new[] { "3600" }, "process sleep 3600")]
    [InlineData("busybox", new string[0], new[] { "sh", "-c", "true" }, "process sh -c true")]
    [InlineData("registry.k8s.io/e2e-test-images/agnhost:2.53", new string[0], new[] { "netexec", "--http-port=8080", "--udp-port=8081" }, "server http=8080 udp=8081")]
    [InlineData("registry.k8s.io/e2e-test-images/agnhost:2.53", new[] { "/agnhost", "netexec" }, new[] { "--http-port", "9000", "--udp-port", "-1" }, "server http=9000 udp=")]
    [InlineData("agnhost", new string[0], new[] { "serve-hostname" }, "server http=9376 udp= hostname-only")]
    [InlineData("agnhost", new string[0], new[] { "serve-hostname", "--udp", "--http=false", "--port", "9377" }, "server http= udp=9377 hostname-only")]
    [InlineData("k8s.gcr.io/agnhost@sha256:abc", new string[0], new[] { "pause" }, "pause")]
    public void Plan_CommandsAndAgnhost(string image, string[] command, string[] args, string expected) =>
        Assert.Equal(expected, Show(ContainerPlanner.Plan(Spec(image, command, args))));

    [Fact]
    public void Plan_NoCommand_ServesEachDeclaredPortByProtocol() =>
        Assert.Equal("server http=80,8080 udp=53", Show(ContainerPlanner.Plan(Spec("nginx", null, null, (80, "TCP"), (53, "UDP"), (8080, "TCP")))));

    [Fact]
    public void Plan_NoCommandNoPorts_ServesNetexecDefaults() =>
        Assert.Equal("server http=8080 udp=8081", Show(ContainerPlanner.Plan(Spec("nginx"))));

    [Fact]
    public void Plan_UnknownAgnhostSubcommand_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => ContainerPlanner.Plan(Spec("agnhost", null, ["guestbook"])));
        Assert.Contains("agnhost guestbook is not built into Podnet", e.Message);
    }

    [Theory]
    [InlineData("porter")]
    [InlineData("test-webserver")]
    [InlineData("connect")]
    public void Plan_AgnhostSubcommandsOfPodnetAgnhost_RunSlashAgnhost(string subcommand) =>
        Assert.Equal($"process /agnhost {subcommand}", Show(ContainerPlanner.Plan(Spec("agnhost", null, [subcommand]))));

    [Fact]
    public void Plan_AgnhostConnectAndDnsSubcommands_RunSlashAgnhost() =>
        Assert.Equal("process /agnhost dns-suffix", Show(ContainerPlanner.Plan(Spec("registry.k8s.io/e2e-test-images/agnhost:2.52", null, ["dns-suffix"]))));

    [Fact]
    public void Plan_NotAgnhostJustSimilar_RunsTheCommand() =>
        Assert.Equal("process netexec", Show(ContainerPlanner.Plan(Spec("myagnhost-fork", null, ["netexec"]))));

    [Fact]
    public void TestWebserver_ServesFilesAndListings_404ForMissing()
    {
        var dir = Directory.CreateTempSubdirectory("volumes-webserver-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "index.txt"), "hello");
            Assert.Equal((200, "hello"), Podnet.TestServer.AgnhostServers.FileResponse(dir + "/index.txt"));
            Assert.Equal((200, "<pre>\n<a href=\"index.txt\">index.txt</a>\n</pre>\n"), Podnet.TestServer.AgnhostServers.FileResponse(dir + "/"));
            Assert.Equal(404, Podnet.TestServer.AgnhostServers.FileResponse(dir + "/missing").Status);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
