using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Proxy;
using Podnet.Testing;

namespace Podnet.Proxy.Tests;

/// <summary>A small cluster of Services and slices, synced into a fake nft runner, with a tracer over the result.</summary>
internal sealed class Cluster
{
    public const string NodeIP = "172.18.0.11";

    public Dictionary<string, ServiceInfo> Services { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<EndpointSliceInfo>> Slices { get; } = new(StringComparer.Ordinal);

    public FakeNftRunner Nft { get; } = new();

    public ProxySyncer Syncer { get; }

    public Cluster(AddressFamily family = AddressFamily.InterNetwork)
    {
        Syncer = new ProxySyncer(Node(family));
    }

    public static ProxyNode Node(AddressFamily family = AddressFamily.InterNetwork) => ProxyNode.For(family, "n1",
        [IPAddress.Parse(NodeIP), IPAddress.Parse("fd00:172:18::11")],
        [IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")],
        [IPNetwork.Parse("10.96.0.0/16"), IPNetwork.Parse("fd00:10:96::/112")]);

    public static ServiceInfo Svc(string name, string ip, params ServicePortInfo[] ports) =>
        new("default", name, "ClusterIP", ip.Split(',').Select(IPAddress.Parse).ToArray(), ports.Length == 0 ? [Tcp(80)] : ports);

    public static ServicePortInfo Tcp(int port, string? name = null, int nodePort = 0) => new(name, "TCP", port, nodePort);

    public static ServicePortInfo Udp(int port, string? name = null, int nodePort = 0) => new(name, "UDP", port, nodePort);

    public static EndpointInfo Ep(string address, bool ready = true, string node = "n2", bool? serving = null, bool terminating = false) =>
        new([IPAddress.Parse(address)], ready, serving ?? ready, terminating, node);

    public static EndpointSliceInfo Slice(string service, IEnumerable<EndpointPortInfo> ports, params EndpointInfo[] endpoints) =>
        new("default", service + "-" + Guid.NewGuid().ToString("N")[..5], service,
            endpoints.Length > 0 && endpoints[0].Addresses[0].AddressFamily == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork,
            ports.ToArray(), endpoints);

    public static EndpointPortInfo P(int port, string name = "", string protocol = "TCP") => new(name, protocol, port);

    public Cluster Set(ServiceInfo service, params EndpointSliceInfo[] slices)
    {
        Services[service.Key] = service;
        Slices[service.Key] = [.. slices];
        return this;
    }

    public Cluster Remove(string name)
    {
        Services.Remove("default/" + name);
        Slices.Remove("default/" + name);
        return this;
    }

    /// <summary>Syncs the named Services (all when none are named) and applies the transaction.</summary>
    public ProxyChange Sync(params string[] dirty)
    {
        var change = Syncer.Plan(
            k => Services.GetValueOrDefault(k),
            k => Slices.TryGetValue(k, out var s) ? s : [],
            () => Services.Keys,
            dirty.Length == 0 ? null : dirty.Select(d => "default/" + d).ToHashSet());
        Nft.Apply(change.Transaction);
        change.Commit();
        return change;
    }

    /// <summary>The dump a fresh proxy would leave for the same Services: what any sequence of partial syncs must equal.</summary>
    public string FullDump()
    {
        var fresh = new Cluster(Syncer.Node.Family);
        foreach (var (key, service) in Services)
        {
            fresh.Services[key] = service;
            fresh.Slices[key] = Slices.GetValueOrDefault(key) ?? [];
        }
        fresh.Sync();
        return fresh.Nft.Dump();
    }

    public NftTracer Tracer() => Nft.Tracer(NodeIP, "fd00:172:18::11");

    /// <summary>Every endpoint a new connection can reach, or the verdict when none.</summary>
    public IReadOnlyList<string> Reach(string source, string destination, int port, string protocol = "tcp", NftOrigin origin = NftOrigin.Incoming) =>
        Tracer().Trace(new NftPacket(IPAddress.Parse(source), IPAddress.Parse(destination), protocol, 40000, port), origin)
            .Select(r => r.Verdict == NftVerdictKind.Accept ? r.Endpoint + (r.Masqueraded ? " masq" : "") : r.ToString())
            .Distinct().Order(StringComparer.Ordinal).ToArray();
}
