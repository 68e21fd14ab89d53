using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Records;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Index;

/// <summary>The mutable side of <see cref="IndexBuilder"/>: names and their records before they are frozen into sets.</summary>
internal sealed class ZoneBuilder
{
    private readonly DnsOptions _options;
    private readonly string _zoneSuffix;
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    public ZoneBuilder(DnsOptions options)
    {
        _options = options;
        _zoneSuffix = "." + options.Zone;
    }

    public void Apex(RecordSet soa)
    {
        Ensure(_options.Zone).Soa = soa;
        var version = System.Text.Encoding.ASCII.GetBytes(IndexBuilder.SchemaVersion);
        var txt = new byte[version.Length + 1];
        txt[0] = (byte)version.Length;
        version.CopyTo(txt, 1);
        Ensure($"dns-version.{_options.Zone}").Add(RecordType.Txt, IndexBuilder.VersionTtl, txt);
    }

    public void AddService(DnsService service, IEnumerable<DnsEndpointSlice> slices)
    {
        var name = $"{service.Name}.{service.Namespace}.svc.{_options.Zone}".ToLowerInvariant();
        if (!Names.TryEncode(name, out var wire))
        {
            return;
        }
        switch (service.Kind)
        {
            case ServiceKind.ClusterIP:
                AddClusterIP(service, name, wire);
                break;
            case ServiceKind.Headless:
                AddHeadless(service, name, slices);
                break;
            case ServiceKind.ExternalName when service.ExternalName is { } target && Names.TryEncode(target, out var targetWire):
                Ensure(name).Add(RecordType.Cname, _options.Ttl, targetWire);
                break;
        }
    }

    private void AddClusterIP(DnsService service, string name, byte[] wire)
    {
        foreach (var ip in service.ClusterIPs)
        {
            AddAddress(name, ip);
            Ensure(IndexBuilder.ReverseName(ip)).Add(RecordType.Ptr, _options.Ttl, wire);
        }
        foreach (var port in service.Ports.Where(p => !string.IsNullOrEmpty(p.Name)))
        {
            AddSrv(SrvName(port, name), port.Port, name, service.ClusterIPs);
            AddSrv(name, port.Port, name, service.ClusterIPs);
        }
    }

    private void AddHeadless(DnsService service, string name, IEnumerable<DnsEndpointSlice> slices)
    {
        foreach (var slice in slices)
        {
            foreach (var endpoint in slice.Endpoints.Where(e => e.Ready || service.PublishNotReadyAddresses))
            {
                var hostname = endpoint.Hostname is { Length: > 0 and <= Limits.MaxLabelLength } h && !h.Contains('.') ? h.ToLowerInvariant() : null;
                foreach (var address in endpoint.Addresses)
                {
                    var target = $"{hostname ?? IndexBuilder.Dashed(address)}.{name}";
                    if (!Names.TryEncode(target, out var targetWire))
                    {
                        continue;
                    }
                    AddAddress(name, address);
                    AddAddress(target, address);
                    Ensure(IndexBuilder.ReverseName(address)).Add(RecordType.Ptr, _options.Ttl, targetWire);
                    foreach (var port in slice.Ports.Where(p => !string.IsNullOrEmpty(p.Name)))
                    {
                        AddSrv(SrvName(port, name), port.Port, target, [address]);
                        AddSrv(name, port.Port, target, [address]);
                    }
                }
            }
        }
    }

    private static string SrvName(DnsPort port, string service) => $"_{port.Name}._{port.Protocol}.{service}".ToLowerInvariant();

    private void AddAddress(string name, IPAddress address) =>
        Ensure(name).Add(address.AddressFamily == AddressFamily.InterNetwork ? RecordType.A : RecordType.Aaaa, _options.Ttl, address.GetAddressBytes());

    private void AddSrv(string name, int port, string target, IReadOnlyList<IPAddress> addresses)
    {
        if (Names.TryEncode(name, out _))
        {
            Ensure(name).AddSrv(port, target, addresses);
        }
    }

    /// <summary>The node at <paramref name="name"/>, made with its ancestors inside the zone if missing.</summary>
    public Node Ensure(string name)
    {
        if (_nodes.TryGetValue(name, out var node))
        {
            return node;
        }
        node = _nodes[name] = new Node();
        if (name.EndsWith(_zoneSuffix, StringComparison.Ordinal))
        {
            Ensure(name[(name.IndexOf('.') + 1)..]);
        }
        return node;
    }

    public Dictionary<string, NameNode> Freeze() => _nodes.ToDictionary(n => n.Key, n => n.Value.Freeze(_options.Ttl), StringComparer.Ordinal);

    internal sealed class Node
    {
        private readonly List<(ushort Type, uint Ttl, byte[] RData)> _records = [];
        private List<(int Port, string Target, List<IPAddress> Addresses)>? _srv;

        public RecordSet? Soa { get; set; }

        /// <summary>Adds a record unless the same one is there (one IP in two slices, a PTR made twice).</summary>
        /// <remarks>A linear check: a name holds a handful of records, a headless Service's name one per endpoint.</remarks>
        public void Add(ushort type, uint ttl, byte[] rdata)
        {
            foreach (var (t, _, r) in _records)
            {
                if (t == type && r.AsSpan().SequenceEqual(rdata))
                {
                    return;
                }
            }
            _records.Add((type, ttl, rdata));
        }

        /// <summary>One SRV per (port, target); a target seen again (a dual-stack endpoint) adds its addresses.</summary>
        public void AddSrv(int port, string target, IReadOnlyList<IPAddress> addresses)
        {
            _srv ??= [];
            var i = _srv.FindIndex(s => s.Port == port && s.Target == target);
            if (i < 0)
            {
                _srv.Add((port, target, []));
                i = _srv.Count - 1;
            }
            _srv[i].Addresses.AddRange(addresses.Except(_srv[i].Addresses));
        }

        public NameNode Freeze(uint ttl) => new()
        {
            A = Build(RecordType.A),
            Aaaa = Build(RecordType.Aaaa),
            Txt = Build(RecordType.Txt),
            Ptr = Build(RecordType.Ptr),
            Cname = Build(RecordType.Cname),
            Soa = Soa,
            Srv = _srv is null ? null : FreezeSrv(_srv, ttl),
        };

        private RecordSet? Build(ushort type)
        {
            RecordSetBuilder? set = null;
            foreach (var (t, ttl, rdata) in _records)
            {
                if (t == type)
                {
                    set ??= new RecordSetBuilder();
                    set.Add(type, ttl, rdata);
                }
            }
            return set?.Build();
        }

        // Priority 0 and weight 100/N for all, as CoreDNS does: every target equally likely.
        private static RecordSet FreezeSrv(List<(int Port, string Target, List<IPAddress> Addresses)> srv, uint ttl)
        {
            var set = new RecordSetBuilder();
            var weight = (ushort)Math.Max(1, 100 / srv.Count);
            for (var k = 0; k < srv.Count; k++)
            {
                var (port, target, addresses) = srv[k];
                var wire = Names.Encode(target);
                var rdata = new byte[6 + wire.Length];
                BinaryPrimitives.WriteUInt16BigEndian(rdata.AsSpan(2), weight);
                BinaryPrimitives.WriteUInt16BigEndian(rdata.AsSpan(4), (ushort)port);
                wire.CopyTo(rdata, 6);
                set.Add(RecordType.Srv, ttl, rdata);
                foreach (var address in addresses)
                {
                    set.AddAdditional(k, address.AddressFamily == AddressFamily.InterNetwork ? RecordType.A : RecordType.Aaaa, ttl, address.GetAddressBytes());
                }
            }
            return set.Build();
        }
    }
}
