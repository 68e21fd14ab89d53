// bench/proxy: Podnet's service proxy against a kube-proxy-shaped nftables ruleset, side by side
// in one run, in throwaway namespaces (pn-bp-*), removed at the end. Run as root:
//   dotnet run -c Release --project bench/proxy [-- --sizes 1000,10000,30000 --reference-max 10000 --connections 3000]
// Prints: (1) full sync time (planning + nft -f) and ruleset size per size, Podnet vs the
// reference (kube-proxy's layout: a chain per Service port and per endpoint, loaded with nft -f);
// (2) one-Service change time at each size (from the sync taking the change to the end of its
// transaction; median and p90 of 20); (3) TCP connections per second through a ClusterIP vs
// straight to the pod address, with the largest size loaded.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Proxy;

var sizes = Arg("--sizes", "1000,10000,30000").Split(',').Select(int.Parse).ToArray();
var referenceMax = int.Parse(Arg("--reference-max", "10000"), CultureInfo.InvariantCulture);
var connections = int.Parse(Arg("--connections", "3000"), CultureInfo.InvariantCulture);
const int Endpoints = 5;

Console.WriteLine($"bench/proxy {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Environment.ProcessorCount} cores, {Endpoints} endpoints per Service, a tenth with ClientIP affinity");
Console.WriteLine();
Console.WriteLine("| Services | Podnet plan ms | Podnet nft -f ms | Podnet total s | Podnet lines | reference nft -f s | reference lines | ratio | change median ms (nft -f) | p90 | change median ms (libnftables) | p90 |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
var node = ProxyNode.For(AddressFamily.InterNetwork, "n1", [IPAddress.Parse("10.0.0.1")], [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/12")]);
// One namespace for each side, its table deleted between sizes: removing a namespace that holds
// a large ruleset keeps the kernel busy long after (the next load then stalls behind it).
using var ns = new Scope("pn-bp-sync");
using var refNs = new Scope("pn-bp-ref");
foreach (var size in sizes)
{
    var (services, slices) = Cluster(size);
    var syncer = new ProxySyncer(node);
    var plan = Stopwatch.StartNew();
    var change = syncer.Plan(k => services.GetValueOrDefault(k), k => slices[k], () => services.Keys, null);
    var script = change.Transaction.ToScript();
    plan.Stop();
    if (Environment.GetEnvironmentVariable("BENCH_PROXY_DUMP") is { } dump)
    {
        File.WriteAllText($"{dump}-{size}.nft", script);
        continue;
    }
    var apply = Stopwatch.StartNew();
    Nft.Apply(ns.Netns, script);
    apply.Stop();
    change.Commit();
    var lines = script.Count(c => c == '\n');

    string refSeconds = "—", refLines = "—", ratio = "—";
    if (size <= referenceMax)
    {
        var reference = ReferenceRuleset(services, slices);
        var refWatch = Stopwatch.StartNew();
        // kube-proxy's layout takes minutes at 10,000 Services: beyond Nft.Apply's two.
        var loaded = ProcessRunner.Run(refNs.Netns, Nft.Binary, ["-f", "-"], reference, TimeSpan.FromMinutes(20));
        refWatch.Stop();
        if (!loaded.Success)
        {
            throw new InvalidOperationException("the reference ruleset did not load: " + loaded.StandardError);
        }
        refSeconds = refWatch.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
        refLines = reference.Count(c => c == '\n').ToString(CultureInfo.InvariantCulture);
        ratio = ((plan.Elapsed + apply.Elapsed).TotalSeconds / refWatch.Elapsed.TotalSeconds).ToString("F3", CultureInfo.InvariantCulture);
        Nft.Apply(refNs.Netns, "delete table ip kube-proxy\n");
    }

    // One Service changes (an endpoint added, then removed): plan + apply of the partial sync,
    // alternately through an nft process and through libnftables in this process.
    var times = new List<double>();
    var libraryTimes = new List<double>();
    using var library = LibNftRunner.TryCreate(ns.Netns) ?? throw new InvalidOperationException("libnftables did not load");
    var process = new NftRunner(ns.Netns);
    for (var i = 0; i < 40; i++)
    {
        var j = (i * 37 + 1) % size;
        var key = $"ns{j % 50}/svc{j}";
        var slice = slices[key][0];
        var grown = slice with { Endpoints = [.. slice.Endpoints, new EndpointInfo([IPAddress.Parse($"10.250.{i}.{i + 1}")], true, true, false, "n9")] };
        slices[key] = i % 2 == 0 ? [grown] : [slice];
        var watch = Stopwatch.StartNew();
        var partial = syncer.Plan(k => services.GetValueOrDefault(k), k => slices[k], () => services.Keys, new HashSet<string> { key });
        ((INftRunner)(i % 4 < 2 ? process : library)).Apply(partial.Transaction);
        watch.Stop();
        partial.Commit();
        (i % 4 < 2 ? times : libraryTimes).Add(watch.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    libraryTimes.Sort();
    Nft.Apply(ns.Netns, "delete table ip podnet-proxy\n");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {size:N0} | {plan.Elapsed.TotalMilliseconds:F0} | {apply.Elapsed.TotalMilliseconds:F0} | {(plan.Elapsed + apply.Elapsed).TotalSeconds:F2} | {lines:N0} | {refSeconds} | {refLines} | {ratio} | {times[times.Count / 2]:F1} | {times[(int)(times.Count * 0.9)]:F1} | {libraryTimes[libraryTimes.Count / 2]:F1} | {libraryTimes[(int)(libraryTimes.Count * 0.9)]:F1} |"));
}

Console.WriteLine();
await ConnectionRateAsync(sizes.Max(), connections);
return 0;

static string Arg(string name, string fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

// size Services in 50 namespaces, each with one TCP port and five ready endpoints; every tenth with affinity.
static (Dictionary<string, ServiceInfo>, Dictionary<string, IReadOnlyList<EndpointSliceInfo>>) Cluster(int size)
{
    var services = new Dictionary<string, ServiceInfo>(StringComparer.Ordinal);
    var slices = new Dictionary<string, IReadOnlyList<EndpointSliceInfo>>(StringComparer.Ordinal);
    for (var i = 0; i < size; i++)
    {
        var ns = $"ns{i % 50}";
        var name = $"svc{i}";
        var vip = IPAddress.Parse($"10.{96 + i / 65536}.{i / 256 % 256}.{i % 256}");
        services[$"{ns}/{name}"] = new ServiceInfo(ns, name, "ClusterIP", [vip], [new ServicePortInfo("http", "TCP", 80)])
        {
            AffinityTimeout = i % 10 == 0 ? TimeSpan.FromSeconds(10800) : null,
        };
        var endpoints = Enumerable.Range(0, Endpoints).Select(e =>
        {
            var n = i * Endpoints + e;
            return new EndpointInfo([IPAddress.Parse($"10.{244 + n / 65536}.{n / 256 % 256}.{n % 256}")], true, true, false, $"n{e}");
        }).ToArray();
        slices[$"{ns}/{name}"] = [new EndpointSliceInfo(ns, name + "-x", name, AddressFamily.InterNetwork, [new EndpointPortInfo("http", "TCP", 8080)], endpoints)];
    }
    return (services, slices);
}

// kube-proxy's nftables layout (pkg/proxy/nftables): a service chain per Service port with a
// numgen vmap over endpoint chains, an endpoint chain per endpoint (hairpin mark, affinity
// update, DNAT), affinity sets per endpoint, dispatch through a service-ips verdict map.
static string ReferenceRuleset(Dictionary<string, ServiceInfo> services, Dictionary<string, IReadOnlyList<EndpointSliceInfo>> slices)
{
    var t = "ip kube-proxy";
    var s = new StringBuilder();
    s.Append($"add table {t}\n");
    s.Append($"add chain {t} nat-prerouting {{ type nat hook prerouting priority -100 ; }}\n");
    s.Append($"add chain {t} nat-output {{ type nat hook output priority -100 ; }}\n");
    s.Append($"add chain {t} services\n");
    s.Append($"add chain {t} mark-for-masquerade\n");
    s.Append($"add rule {t} mark-for-masquerade meta mark set meta mark | 0x00004000\n");
    s.Append($"add map {t} service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict ; }}\n");
    s.Append($"add rule {t} nat-prerouting jump services\n");
    s.Append($"add rule {t} nat-output jump services\n");
    s.Append($"add rule {t} services ip daddr . meta l4proto . th dport vmap @service-ips\n");
    foreach (var (key, service) in services)
    {
        var chain = $"service-{Hash(key)}-{key}/tcp/http";
        s.Append($"add chain {t} {chain}\n");
        var branches = new List<string>();
        var eps = slices[key][0].Endpoints;
        for (var e = 0; e < eps.Count; e++)
        {
            var ep = $"{eps[e].Addresses[0]}:8080";
            var epChain = $"endpoint-{Hash(key + ep)}-{key}/tcp/http__{eps[e].Addresses[0]}/8080";
            s.Append($"add chain {t} {epChain}\n");
            s.Append($"add rule {t} {epChain} ip saddr {eps[e].Addresses[0]} jump mark-for-masquerade\n");
            if (service.AffinityTimeout is not null)
            {
                var set = $"affinity-{Hash(key + ep)}-{key}/tcp/http__{eps[e].Addresses[0]}/8080";
                s.Append($"add set {t} {set} {{ type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }}\n");
                s.Append($"add rule {t} {epChain} update @{set} {{ ip saddr }}\n");
                s.Append($"add rule {t} {chain} ip saddr @{set} goto {epChain}\n");
            }
            s.Append($"add rule {t} {epChain} meta l4proto tcp dnat to {ep}\n");
            branches.Add($"{e} : goto {epChain}");
        }
        s.Append($"add rule {t} {chain} ip daddr {service.ClusterIPs[0]} ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n");
        s.Append($"add rule {t} {chain} numgen random mod {eps.Count} vmap {{ {string.Join(", ", branches)} }}\n");
        s.Append($"add element {t} service-ips {{ {service.ClusterIPs[0]} . tcp . 80 : goto {chain} }}\n");
    }
    return s.ToString();
}

static string Hash(string text) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

// TCP connect+close rate from a client namespace through a node namespace to a server namespace,
// to the ClusterIP (DNAT by podnet-proxy with size Services loaded) and to the pod address.
static async Task ConnectionRateAsync(int size, int count)
{
    using var client = new Scope("pn-bp-client");
    using var nodeNs = new Scope("pn-bp-node");
    using var server = new Scope("pn-bp-server");
    using (var rt = RtNetlink.Open(nodeNs.Netns))
    {
        rt.CreateVeth("c0", "eth0", client.Netns);
        rt.CreateVeth("s0", "eth0", server.Netns);
        rt.AddAddress("c0", AddressPrefixOf("10.244.1.1/24"));
        rt.AddAddress("s0", AddressPrefixOf("10.244.2.1/24"));
        rt.SetUp("c0");
        rt.SetUp("s0");
    }
    Sysctl.Set(nodeNs.Netns, [new("net.ipv4.ip_forward", "1")]);
    foreach (var (ns, address, gateway) in new[] { (client, "10.244.1.2/24", "10.244.1.1"), (server, "10.244.2.2/24", "10.244.2.1") })
    {
        using var rt = RtNetlink.Open(ns.Netns);
        rt.AddAddress("eth0", AddressPrefixOf(address));
        rt.SetUp("eth0");
        rt.SetUp("lo");
        rt.AddRoute(new RouteInfo { Destination = new IPNetwork(IPAddress.Any, 0), Gateway = IPAddress.Parse(gateway), LinkIndex = rt.GetLink("eth0").Index });
    }
    var (services, slices) = Cluster(size);
    // The measured Service: its endpoint is the server pod.
    services["bench/target"] = new ServiceInfo("bench", "target", "ClusterIP", [IPAddress.Parse("10.111.0.1")], [new ServicePortInfo("http", "TCP", 80)]);
    slices["bench/target"] = [new EndpointSliceInfo("bench", "target-x", "target", AddressFamily.InterNetwork, [new EndpointPortInfo("http", "TCP", 8080)], [new EndpointInfo([IPAddress.Parse("10.244.2.2")], true, true, false, "n2")])];
    var syncer = new ProxySyncer(node: ProxyNode.For(AddressFamily.InterNetwork, "n1", [IPAddress.Parse("10.244.1.1")], [IPNetwork.Parse("10.244.0.0/16")], [IPNetwork.Parse("10.96.0.0/12")]));
    Nft.Apply(nodeNs.Netns, syncer.Plan(k => services.GetValueOrDefault(k), k => slices[k], () => services.Keys, null).Transaction);

    using var listener = server.Netns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
    listener.Bind(new IPEndPoint(IPAddress.Any, 8080));
    listener.Listen(1024);
    using var stop = new CancellationTokenSource();
    var accept = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var s = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception)
            {
                return;
            }
        }
    });
    var results = new Dictionary<string, List<double>> { ["ClusterIP"] = [], ["direct"] = [] };
    for (var round = 0; round < 4; round++)
    {
        foreach (var (label, target) in new[] { ("ClusterIP", new IPEndPoint(IPAddress.Parse("10.111.0.1"), 80)), ("direct", new IPEndPoint(IPAddress.Parse("10.244.2.2"), 8080)) })
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                using var socket = client.Netns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                socket.LingerState = new LingerOption(true, 0);
                await socket.ConnectAsync(target);
            }
            results[label].Add(count / watch.Elapsed.TotalSeconds);
        }
    }
    await stop.CancelAsync();
    listener.Close();
    await accept;
    var viaService = results["ClusterIP"].Order().ElementAt(2);
    var direct = results["direct"].Order().ElementAt(2);
    Console.WriteLine($"TCP connect+close per second with {size:N0} Services loaded (median of 4 alternating rounds of {count:N0}):");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  through the ClusterIP {viaService:F0}/s, straight to the pod {direct:F0}/s, ratio {viaService / direct:F3} (target ≥ 0.95)"));
}

static Podnet.Core.Net.AddressPrefix AddressPrefixOf(string text) => Podnet.Core.Net.AddressPrefix.Parse(text);

/// <summary>A namespace for the run, removed on dispose.</summary>
sealed class Scope : IDisposable
{
    public Scope(string name)
    {
        Name = name;
        if (Netns.List().Contains(name))
        {
            Netns.Delete(name);
        }
        Netns = Netns.Create(name);
        using var rt = RtNetlink.Open(Netns);
        rt.SetUp("lo");
    }

    public string Name { get; }

    public Netns Netns { get; }

    public void Dispose()
    {
        Netns.Dispose();
        Netns.Delete(Name);
    }
}
