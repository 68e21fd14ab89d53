using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

// bench/dns model cluster: 100 namespaces x 100 Services = 10,000. svc-0 of each namespace is
// headless with 3 ready endpoints (hostnames h0-h2) and a named port; every fifth of the others
// has a named port "http" (SRV), the rest an unnamed one; ClusterIPs are 10.96.0.0/16 in order.
// The objects are served to `podnet dns` by a minimal list/watch API on 127.0.0.1 (lists of
// Services, EndpointSlices and Namespaces; watches that stay open and quiet), so the DNS server
// takes its real path (informers, projection, index) without the cost of a full API server
// (whose create path re-reads every Service per create, far too slow for 10,000). The same
// objects are written as zone files for Knot, and the query mix.
// Usage: Podnet.Bench.Dns OUTDIR [namespaces] [per-namespace]; prints the kubeconfig's path,
// then "ready", and serves until standard input closes.
var output = Path.GetFullPath(args.Length > 0 ? args[0] : "bench-dns");
var namespaces = args.Length > 1 ? int.Parse(args[1]) : 100;
var perNamespace = args.Length > 2 ? int.Parse(args[2]) : 100;
Directory.CreateDirectory(output);

var services = new List<V1Service>();
var slices = new List<V1EndpointSlice>();
var next = 10;
for (var n = 0; n < namespaces; n++)
{
    for (var s = 0; s < perNamespace; s++)
    {
        var headless = s == 0;
        var named = headless || s % 5 == 1;
        var ip = headless ? "None" : $"10.96.{next / 256}.{next++ % 256}";
        services.Add(new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = $"svc-{s}", NamespaceProperty = $"ns-{n}", ResourceVersion = "1", Uid = Guid.NewGuid().ToString() },
            Spec = new V1ServiceSpec { ClusterIP = ip, ClusterIPs = [ip], Type = "ClusterIP", Ports = [new V1ServicePort { Name = named ? "http" : null, Port = 80, Protocol = "TCP" }] },
        });
        if (headless)
        {
            slices.Add(new V1EndpointSlice
            {
                ApiVersion = "discovery.k8s.io/v1",
                Kind = "EndpointSlice",
                Metadata = new V1ObjectMeta { Name = $"svc-{s}-1", NamespaceProperty = $"ns-{n}", ResourceVersion = "1", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = $"svc-{s}" } },
                AddressType = "IPv4",
                Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
                Endpoints = [.. Enumerable.Range(0, 3).Select(k => new V1Endpoint { Addresses = [$"10.244.{n}.{k + 1}"], Hostname = $"h{k}", Conditions = new V1EndpointConditions { Ready = true } })],
            });
        }
    }
}
var namespaceList = new V1NamespaceList { ApiVersion = "v1", Kind = "NamespaceList", Metadata = new V1ListMeta { ResourceVersion = "1" }, Items = [.. Enumerable.Range(0, namespaces).Select(n => new V1Namespace { Metadata = new V1ObjectMeta { Name = $"ns-{n}", ResourceVersion = "1" } })] };
var lists = new Dictionary<string, string>
{
    ["/api/v1/services"] = KubernetesJson.Serialize(new V1ServiceList { ApiVersion = "v1", Kind = "ServiceList", Metadata = new V1ListMeta { ResourceVersion = "1" }, Items = services }),
    ["/apis/discovery.k8s.io/v1/endpointslices"] = KubernetesJson.Serialize(new V1EndpointSliceList { ApiVersion = "discovery.k8s.io/v1", Kind = "EndpointSliceList", Metadata = new V1ListMeta { ResourceVersion = "1" }, Items = slices }),
    ["/api/v1/namespaces"] = KubernetesJson.Serialize(namespaceList),
};

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
var app = builder.Build();
app.Run(async context =>
{
    if (!lists.TryGetValue(context.Request.Path.Value ?? "", out var body))
    {
        context.Response.StatusCode = 404;
        return;
    }
    context.Response.ContentType = "application/json";
    if (context.Request.Query["watch"] == "true")
    {
        // Nothing changes: the watch stays open until the client goes.
        await context.Response.Body.FlushAsync(context.RequestAborted);
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
        return;
    }
    await context.Response.WriteAsync(body, context.RequestAborted);
});
await app.StartAsync();
var url = app.Urls.First();
var kubeconfig = Path.Combine(output, "kubeconfig");
File.WriteAllText(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: {url}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\ncurrent-context: bench\nusers:\n- name: bench\n  user:\n    token: bench\n");
WriteZones(output, services, slices);
WriteQueries(output, services, slices, namespaces);
Console.Error.WriteLine($"serving {services.Count} services, {slices.Count} endpoint slices at {url}");
Console.WriteLine(kubeconfig);
Console.WriteLine("ready");
// Until standard input closes, or a SIGTERM/Ctrl-C stops the host.
var stopping = new TaskCompletionSource();
app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
// (Console.In reads synchronously: on a thread of its own, so the wait can end either way.)
await Task.WhenAny(Task.Run(Console.In.ReadToEnd), stopping.Task);
await app.StopAsync();
return 0;

static void WriteZones(string output, List<V1Service> services, List<V1EndpointSlice> slices)
{
    const int ttl = 30;
    var zone = new StringBuilder();
    var reverse96 = new StringBuilder();
    var reverse244 = new StringBuilder();
    foreach (var (text, origin) in new[] { (zone, "cluster.local."), (reverse96, "96.10.in-addr.arpa."), (reverse244, "244.10.in-addr.arpa.") })
    {
        text.Append($"$ORIGIN {origin}\n$TTL {ttl}\n@ SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 {ttl}\n@ NS ns.dns.cluster.local.\n");
    }
    zone.Append("ns.dns A 10.96.0.10\ndns-version 28800 TXT \"1.1.0\"\n");
    foreach (var service in services)
    {
        var name = $"{service.Metadata.Name}.{service.Metadata.NamespaceProperty}.svc";
        if (service.Spec.ClusterIP == "None")
        {
            var slice = slices.Single(s => s.Metadata.NamespaceProperty == service.Metadata.NamespaceProperty && s.Metadata.Labels["kubernetes.io/service-name"] == service.Metadata.Name);
            foreach (var endpoint in slice.Endpoints)
            {
                var ip = endpoint.Addresses[0];
                var host = $"{endpoint.Hostname}.{name}";
                zone.Append($"{name} A {ip}\n{host} A {ip}\n_http._tcp.{name} SRV 0 33 8080 {host}.cluster.local.\n{name} SRV 0 33 8080 {host}.cluster.local.\n");
                var b = ip.Split('.');
                reverse244.Append($"{b[3]}.{b[2]} PTR {host}.cluster.local.\n");
            }
            continue;
        }
        var clusterIP = service.Spec.ClusterIP;
        zone.Append($"{name} A {clusterIP}\n");
        if (service.Spec.Ports.Any(p => p.Name == "http"))
        {
            zone.Append($"_http._tcp.{name} SRV 0 100 80 {name}.cluster.local.\n{name} SRV 0 100 80 {name}.cluster.local.\n");
        }
        var bytes = clusterIP.Split('.');
        reverse96.Append($"{bytes[3]}.{bytes[2]} PTR {name}.cluster.local.\n");
    }
    File.WriteAllText(Path.Combine(output, "cluster.local.zone"), zone.ToString());
    File.WriteAllText(Path.Combine(output, "96.10.in-addr.arpa.zone"), reverse96.ToString());
    File.WriteAllText(Path.Combine(output, "244.10.in-addr.arpa.zone"), reverse244.ToString());
}

// The mix of research/dns.md: 45 % A of a ClusterIP Service, 15 % AAAA of one (NODATA), 5 % SRV,
// 3 % headless and hostname A, 2 % PTR, 30 % NXDOMAIN shaped like ndots:5 search expansions.
static void WriteQueries(string output, List<V1Service> services, List<V1EndpointSlice> slices, int namespaces)
{
    var random = new Random(16);
    var clusterIP = services.Where(s => s.Spec.ClusterIP != "None").ToList();
    var named = clusterIP.Where(s => s.Spec.Ports.Any(p => p.Name == "http")).ToList();
    var headless = services.Where(s => s.Spec.ClusterIP == "None").ToList();
    string Name(V1Service s) => $"{s.Metadata.Name}.{s.Metadata.NamespaceProperty}.svc.cluster.local";
    T Pick<T>(List<T> list) => list[random.Next(list.Count)];
    var lines = new List<string>(200_000);
    for (var i = 0; i < 200_000; i++)
    {
        var roll = random.Next(100);
        lines.Add(roll switch
        {
            < 45 => $"{Name(Pick(clusterIP))} A",
            < 60 => $"{Name(Pick(clusterIP))} AAAA",
            < 65 => $"_http._tcp.{Name(Pick(named))} SRV",
            < 68 => random.Next(2) == 0 ? $"{Name(Pick(headless))} A" : $"h{random.Next(3)}.{Name(Pick(headless))} A",
            < 70 => $"{Reverse(Pick(clusterIP).Spec.ClusterIP)} PTR",
            < 80 => $"{Pick(clusterIP).Metadata.Name}.ns-{random.Next(namespaces)}.ns-{random.Next(namespaces)}.svc.cluster.local A",
            < 88 => $"www.google.com.ns-{random.Next(namespaces)}.svc.cluster.local A",
            < 92 => "www.google.com.svc.cluster.local A",
            < 96 => "www.google.com.cluster.local A",
            _ => $"missing-{random.Next(1000)}.ns-{random.Next(namespaces)}.svc.cluster.local A",
        });
    }
    File.WriteAllLines(Path.Combine(output, "mix.txt"), lines);
}

static string Reverse(string ip) => string.Join('.', ip.Split('.').Reverse()) + ".in-addr.arpa";
