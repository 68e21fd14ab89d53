using System.Text.Json.Nodes;
using k8s;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.NodeIpam;

/// <summary>nodeipam: gives every node spec.podCIDR/podCIDRs; an Event when the cluster CIDR is exhausted.</summary>
internal sealed class NodeIpamController : QueueController
{
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Expectations<NodeCidrAssignment> _pending;

    public NodeIpamController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _events = new EventRecorder(client, "node-ipam-controller");
        _pending = new Expectations<NodeCidrAssignment>(options.ExpectationTimeout);
        WakeOn(informers.Nodes);
    }

    public override string Name => "nodeipam";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var nodes = Informers.Nodes.Cache.List();
        _pending.Prune((name, _) => nodes.FirstOrDefault(n => n.Metadata.Name == name) is not { } node || NodeIpamCalc.CidrsOf(node).Count > 0);
        var plan = NodeIpamCalc.Calc(Options.NodeIpam, nodes, _pending.Items.Select(i => i.Value));
        foreach (var assignment in plan.Assign)
        {
            var patch = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["podCIDR"] = assignment.PodCidrs[0],
                    ["podCIDRs"] = new JsonArray([.. assignment.PodCidrs.Select(c => (JsonNode)c)]),
                },
            };
            await _client.CoreV1.PatchNodeAsync(Writes.Merge(patch), assignment.NodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
            _pending.Set(assignment.NodeName, assignment);
        }
        foreach (var name in plan.Exhausted)
        {
            var node = nodes.First(n => n.Metadata.Name == name);
            await _events.RecordAsync(EventRecorder.Ref("Node", node.Metadata), "Normal", "CIDRNotAvailable",
                $"Node {name} status is now: CIDRNotAvailable", cancellationToken).ConfigureAwait(false);
        }
    }
}
