using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Podnet.Kernel.Netlink;
using Podnet.Policy;

namespace Podnet.Agent.Policy;

/// <summary>
/// Counts policy drops per pod and direction: listens to the nflog group the policy table logs
/// denied packets to, attributes each to the judged pod (the receiver for ingress, the sender
/// for egress) with the NetworkPolicies isolating it, or the ClusterNetworkPolicy rule the log
/// prefix names when a CNP Deny dropped it, and keeps the counts and the
/// most recent drops in <c>policy-drops.json</c> in the agent's state directory (rewritten at
/// most once a second), which `podnet policy drops` reads.
/// </summary>
public sealed class PolicyDrops(AgentOptions options, PolicyEngine engine)
{
    public const string FileName = "policy-drops.json";
    private const int RecentLimit = 200;

    private readonly Dictionary<(string Pod, string Direction), long> _counts = [];
    private readonly Queue<JsonElement> _recent = new();

    public string Path => System.IO.Path.Combine(options.StateDirectory, FileName);

    public Task RunAsync(CancellationToken token) => Task.Factory.StartNew(() => Listen(token), token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Listen(CancellationToken token)
    {
        NflogListener listener;
        try
        {
            listener = NflogListener.Open(PolicyNames.NflogGroup);
        }
        catch (Exception e)
        {
            options.Log($"policy drops: cannot listen to nflog group {PolicyNames.NflogGroup}, drops are not counted: {e.Message}");
            return;
        }
        using (listener)
        {
            var dirty = false;
            var written = DateTime.MinValue;
            while (!token.IsCancellationRequested)
            {
                foreach (var packet in listener.Receive())
                {
                    dirty |= Count(packet);
                }
                if (dirty && DateTime.UtcNow - written >= TimeSpan.FromSeconds(1))
                {
                    Write();
                    written = DateTime.UtcNow;
                    dirty = false;
                }
            }
        }
    }

    private bool Count(NflogPacket packet)
    {
        if (PolicyNames.ParseLogPrefix(packet.Prefix) is not { } logged || Headers.Parse(packet.Payload) is not { } h)
        {
            return false;
        }
        var direction = logged.Direction == Direction.Ingress ? "ingress" : "egress";
        var pod = engine.PodAt(direction == "ingress" ? h.Destination : h.Source);
        var key = pod?.Key ?? (direction == "ingress" ? h.Destination : h.Source).ToString();
        _counts[(key, direction)] = _counts.GetValueOrDefault((key, direction)) + 1;
        var isolation = engine.Committed is { } plan && pod is not null
            ? (direction == "ingress" ? plan.IngressIsolation : plan.EgressIsolation).GetValueOrDefault(pod.Key) ?? []
            : [];
        _recent.Enqueue(JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["time"] = packet.Time.ToString("O"),
            ["direction"] = direction,
            ["pod"] = key,
            ["peer"] = (direction == "ingress" ? engine.PodAt(h.Source)?.Key : engine.PodAt(h.Destination)?.Key) ?? (direction == "ingress" ? h.Source : h.Destination).ToString(),
            ["source"] = h.Source.ToString(),
            ["destination"] = h.Destination.ToString(),
            ["protocol"] = h.Protocol,
            ["port"] = h.Port,
            ["policies"] = isolation,
            // The ClusterNetworkPolicy rule that denied, as its log prefix names it; null when
            // the pod's NetworkPolicy isolation did (no rule of those policies allowed it).
            ["rule"] = logged.Rule,
        }));
        while (_recent.Count > RecentLimit)
        {
            _recent.Dequeue();
        }
        return true;
    }

    private void Write()
    {
        var document = new Dictionary<string, object>
        {
            ["node"] = options.NodeName,
            ["counts"] = _counts.Select(c => new Dictionary<string, object> { ["pod"] = c.Key.Pod, ["direction"] = c.Key.Direction, ["drops"] = c.Value }).ToArray(),
            ["recent"] = _recent.ToArray(),
        };
        var temporary = Path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(document));
        File.Move(temporary, Path, overwrite: true);
    }

    /// <summary>The addresses, protocol and destination port of an IPv4 or IPv6 packet's first bytes.</summary>
    internal sealed record Headers(IPAddress Source, IPAddress Destination, string Protocol, int Port)
    {
        public static Headers? Parse(byte[] p)
        {
            if (p.Length >= 20 && p[0] >> 4 == 4)
            {
                var ihl = (p[0] & 0xf) * 4;
                return new Headers(new IPAddress(p.AsSpan(12, 4)), new IPAddress(p.AsSpan(16, 4)), Name(p[9]), PortOf(p, ihl, p[9]));
            }
            if (p.Length >= 40 && p[0] >> 4 == 6)
            {
                return new Headers(new IPAddress(p.AsSpan(8, 16)), new IPAddress(p.AsSpan(24, 16)), Name(p[6]), PortOf(p, 40, p[6]));
            }
            return null;
        }

        private static int PortOf(byte[] p, int offset, byte protocol) =>
            protocol is 6 or 17 or 132 && p.Length >= offset + 4 ? (p[offset + 2] << 8) | p[offset + 3] : 0;

        private static string Name(byte protocol) => protocol switch
        {
            6 => "tcp",
            17 => "udp",
            132 => "sctp",
            1 => "icmp",
            58 => "icmpv6",
            _ => protocol.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
