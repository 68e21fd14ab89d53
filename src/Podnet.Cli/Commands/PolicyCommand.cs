using System.CommandLine;
using System.Globalization;
using k8s;
using Podnet.Controllers.Projections;
using Podnet.Core.Cluster;
using Podnet.Policy;

namespace Podnet.Cli.Commands;

/// <summary>`podnet policy check NS/POD NS/POD --port N/PROTO`: explains NetworkPolicy's verdict on a new connection.</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var command = new Command("policy", "NetworkPolicy: explain verdicts.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Drops());
        return command;
    }

    /// <summary>`podnet policy drops [-n NS]`: drops per pod and direction, and the recent ones, from every node's agent (lab).</summary>
    private static Command Drops()
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "Only pods of this namespace." };
        var lab = ClusterContext.LabOption();
        var command = new Command("drops", "Show policy drops per pod and direction, and the most recent ones with the NetworkPolicies isolating the pod or the ClusterNetworkPolicy rule that denied.") { ns, lab };
        command.SetAction(parse =>
        {
            if (ClusterContext.Resolve(null, parse.GetValue(lab)) is not { Lab: { } state })
            {
                Console.Error.WriteLine("podnet policy drops: works on a lab (give --lab NAME when several run)");
                return 2;
            }
            var only = parse.GetValue(ns);
            bool Mine(string pod) => only is null || pod.StartsWith(only + "/", StringComparison.Ordinal);
            var counts = new List<(string Node, string Pod, string Direction, long Drops)>();
            var recent = new List<System.Text.Json.Nodes.JsonNode>();
            var nodes = Path.Combine(state.Directory, "nodes");
            foreach (var dir in Directory.Exists(nodes) ? Directory.GetDirectories(nodes).Order(StringComparer.Ordinal).ToArray() : [])
            {
                var file = Path.Combine(dir, Podnet.Agent.Policy.PolicyDrops.FileName);
                if (!File.Exists(file))
                {
                    continue;
                }
                var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!;
                foreach (var c in json["counts"]!.AsArray())
                {
                    counts.Add((Path.GetFileName(dir), (string)c!["pod"]!, (string)c["direction"]!, (long)c["drops"]!));
                }
                recent.AddRange(json["recent"]!.AsArray().Select(r => r!.DeepClone()));
            }
            Console.WriteLine($"{"NODE",-6} {"POD",-40} {"DIRECTION",-10} DROPS");
            foreach (var c in counts.Where(c => Mine(c.Pod)).OrderBy(c => c.Pod, StringComparer.Ordinal).ThenBy(c => c.Direction, StringComparer.Ordinal))
            {
                Console.WriteLine($"{c.Node,-6} {c.Pod,-40} {c.Direction,-10} {c.Drops}");
            }
            Console.WriteLine();
            Console.WriteLine("RECENT");
            foreach (var r in recent.Where(r => Mine((string)r["pod"]!)).OrderBy(r => (string)r["time"]!, StringComparer.Ordinal).TakeLast(20))
            {
                var policies = string.Join(", ", r["policies"]!.AsArray().Select(p => (string)p!));
                var (from, to) = (string)r["direction"]! == "ingress" ? ((string)r["peer"]!, (string)r["pod"]!) : ((string)r["pod"]!, (string)r["peer"]!);
                var why = (string?)r["rule"] is { } rule ? $"denied by {rule}" : $"isolated by {(policies.Length == 0 ? "?" : policies)}";
                Console.WriteLine($"{(string)r["time"]!} {(string)r["direction"]!,-8} {from} -> {to} {(string)r["protocol"]!}/{(int)r["port"]!}  {why}");
            }
            return 0;
        });
        return command;
    }

    private static Command Check()
    {
        var from = new Argument<string>("FROM") { Description = "The sending pod, NS/POD." };
        var to = new Argument<string>("TO") { Description = "The receiving pod, NS/POD." };
        var port = new Option<string>("--port") { Description = "Destination port and protocol, N/PROTO (tcp, udp, sctp).", DefaultValueFactory = _ => "80/tcp" };
        var deny = new Option<string>("--policy-deny") { Description = "What the agents do with denied traffic (as their flag): drop or reject.", DefaultValueFactory = _ => "drop" };
        deny.AcceptOnlyFromAmong("drop", "reject");
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("check", "Explain whether a new connection between two pods is allowed: the policies isolating each side, the rule that allows, or the isolation that denies.")
        {
            from, to, port, deny, kubeconfig, lab,
        };
        command.SetAction(async (parse, token) =>
        {
            var portText = parse.GetValue(port)!.Split('/');
            if (portText.Length is < 1 or > 2 || !int.TryParse(portText[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                || (portText.Length == 2 && portText[1].ToLowerInvariant() is not ("tcp" or "udp" or "sctp")))
            {
                Console.Error.WriteLine($"podnet policy check: --port wants N/PROTO (tcp, udp or sctp), not {parse.GetValue(port)}");
                return 2;
            }
            var protocol = portText.Length == 2 ? portText[1].ToLowerInvariant() : "tcp";
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            using var client = context.Client();
            var pods = (await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: token)).Items.Select(ObjectProjection.ToPodInfo).ToArray();
            var namespaces = (await client.CoreV1.ListNamespaceAsync(cancellationToken: token)).Items.Select(ObjectProjection.ToNamespaceInfo).ToArray();
            var policies = (await client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync(cancellationToken: token)).Items.Select(ObjectProjection.ToNetworkPolicyInfo).ToArray();
            var clusterPolicies = (await new Agent.Policy.ClusterNetworkPolicyListWatch(client).ListAsync(token)).Items
                .Select(p => ObjectProjection.ToClusterNetworkPolicyInfo(p.Metadata.Name ?? "", p.Spec)).ToArray();
            PodInfo? Find(string key) => pods.FirstOrDefault(p => p.Key == (key.Contains('/') ? key : "default/" + key));
            if (Find(parse.GetValue(from)!) is not { } source || Find(parse.GetValue(to)!) is not { } destination)
            {
                Console.Error.WriteLine("podnet policy check: no such pod (give NS/POD)");
                return 1;
            }
            var families = pods.SelectMany(p => p.Addresses).Select(a => a.AddressFamily).Distinct().ToArray();
            try
            {
                var result = PolicyCheck.Check(new PolicySnapshot(policies, pods, namespaces, clusterPolicies), families, parse.GetValue(deny) == "reject" ? PolicyDeny.Reject : PolicyDeny.Drop,
                    source, destination, number, protocol);
                foreach (var line in result.Lines())
                {
                    Console.WriteLine(line);
                }
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"podnet policy check: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
