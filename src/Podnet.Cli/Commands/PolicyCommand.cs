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
            PodInfo? Find(string key) => pods.FirstOrDefault(p => p.Key == (key.Contains('/') ? key : "default/" + key));
            if (Find(parse.GetValue(from)!) is not { } source || Find(parse.GetValue(to)!) is not { } destination)
            {
                Console.Error.WriteLine("podnet policy check: no such pod (give NS/POD)");
                return 1;
            }
            var families = pods.SelectMany(p => p.Addresses).Select(a => a.AddressFamily).Distinct().ToArray();
            try
            {
                var result = PolicyCheck.Check(new PolicySnapshot(policies, pods, namespaces), families, parse.GetValue(deny) == "reject" ? PolicyDeny.Reject : PolicyDeny.Drop,
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
