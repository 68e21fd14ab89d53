using System.Diagnostics;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// Cluster DNS in a lab as `lab up` runs it (kube-system/kube-dns at 10.96.0.10, reaching the API
/// through the `kubernetes` Service): dig from a pod for each record kind, the glibc resolver
/// through the pod's resolv.conf, a Service resolvable within a second, forwarding to the upstream
/// the lab file names (a responder this test runs on the outside host), and TCP after truncation.
/// </summary>
public sealed class ClusterDnsTests(DnsLabFixture lab) : IClassFixture<DnsLabFixture>
{
    private const string Zone = "cluster.local";

    [PrivilegedFact]
    public void KubeDns_IsTheDeploymentBehindTheServiceAtTheResolvConfAddress()
    {
        var service = lab.View.Client.CoreV1.ReadNamespacedService("kube-dns", "kube-system");
        Assert.Equal("10.96.0.10", service.Spec.ClusterIP);
        Assert.Equal(["dns/UDP/53", "dns-tcp/TCP/53", "metrics/TCP/9153"], service.Spec.Ports.Select(p => $"{p.Name}/{p.Protocol}/{p.Port}"));
        Assert.Contains("nameserver 10.96.0.10", lab.Exec("client", "cat", "/etc/resolv.conf"));
    }

    [PrivilegedFact]
    public async Task Dig_AnswersEachRecordKind()
    {
        Assert.Equal([lab.Web.Spec.ClusterIP], await lab.DigUntilAsync(["web.default.svc." + Zone], a => a.Count > 0));
        Assert.Equal([$"0 100 80 web.default.svc.{Zone}."], await lab.DigUntilAsync(["SRV", $"_http._tcp.web.default.svc.{Zone}"], a => a.Count > 0));
        Assert.Equal([$"web.default.svc.{Zone}."], await lab.DigUntilAsync(["-x", lab.Web.Spec.ClusterIP], a => a.Count > 0));
        var podIps = lab.WebPods.Select(p => p.Status.PodIP).Order().ToList();
        Assert.Equal(podIps, (await lab.DigUntilAsync(["web-headless.default.svc." + Zone], a => a.Count == podIps.Count)).Order());
        var missing = lab.Dig("nope.default.svc." + Zone);
        Assert.Contains("status: NXDOMAIN", missing);
        Assert.Contains("flags: qr aa", missing);
    }

    [PrivilegedFact]
    public void GlibcResolver_UsesThePodsResolvConfAndSearchPath()
    {
        Assert.StartsWith(lab.Web.Spec.ClusterIP + " ", lab.Exec("client", "getent", "hosts", "web"));
        Assert.StartsWith(lab.Other.Spec.ClusterIP + " ", lab.Exec("client", "getent", "hosts", "web.other"));
        Assert.StartsWith(lab.Web.Spec.ClusterIP + " ", lab.Exec("client", "getent", "hosts", "web.default.svc"));
        Assert.StartsWith("web-", lab.Exec("client", "curl", "-sS", "--max-time", "5", "http://web/hostname"));
    }

    [PrivilegedFact]
    public async Task NewService_ResolvesWithinOneSecondOfItsCreation()
    {
        var service = await lab.View.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "quick" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] },
        }, "default");
        var clock = Stopwatch.StartNew();
        var answers = await lab.DigUntilAsync(["+tries=1", "+time=1", "quick.default.svc." + Zone], a => a.Count > 0, TimeSpan.FromSeconds(5));
        clock.Stop();
        Assert.Equal([service.Spec.ClusterIP], answers);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"resolvable {clock.Elapsed.TotalMilliseconds:F0} ms after the create returned");
    }

    [PrivilegedFact]
    public async Task NamesOutsideTheZone_GoToTheLabFilesUpstream()
    {
        Assert.Equal([DnsLabFixture.UpstreamAnswer], await lab.DigUntilAsync(["outside.example"], a => a.Count > 0));
        Assert.Contains("outside.example.", lab.Upstream.Asked);
    }

    [PrivilegedFact]
    public async Task TruncatedUdpAnswer_IsWholeOverTcp()
    {
        var name = "many.default.svc." + Zone;
        Assert.Equal(DnsLabFixture.ManyEndpoints, (await lab.DigUntilAsync(["+tcp", name], a => a.Count == DnsLabFixture.ManyEndpoints)).Count);
        var udp = lab.Dig("+noedns", "+ignore", name);
        Assert.Matches(@"flags: qr aa tc[ ;]", udp.Replace(" rd", "").Replace(" ra", ""));
        Assert.DoesNotContain("ANSWER: " + DnsLabFixture.ManyEndpoints, udp);
        var fallback = lab.Dig("+noedns", name);
        Assert.Contains("Truncated, retrying in TCP mode", fallback);
        Assert.Contains($"ANSWER: {DnsLabFixture.ManyEndpoints},", fallback);
    }
}
