using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Agent;

/// <summary>
/// The cluster-wide informers every agent runs, in the lab and in cluster mode alike: all pods
/// (policy peers run anywhere), nodes, namespaces, NetworkPolicies, ClusterNetworkPolicies,
/// Services, EndpointSlices and ServiceCIDRs.
/// </summary>
internal sealed class AgentInformers
{
    public AgentInformers(IKubernetes client, AgentOptions options)
    {
        var informerOptions = new InformerOptions { OnError = e => options.Log($"watch: {e.Message}") };
        Nodes = new Informer<V1Node>(ListWatches.Nodes(client), informerOptions);
        Pods = new Informer<V1Pod>(ListWatches.Pods(client), informerOptions);
        Namespaces = new Informer<V1Namespace>(ListWatches.Namespaces(client), informerOptions);
        Policies = new Informer<V1NetworkPolicy>(ListWatches.NetworkPolicies(client), informerOptions);
        ClusterPolicies = new Informer<Policy.ClusterNetworkPolicyObject>(new Policy.ClusterNetworkPolicyListWatch(client), informerOptions);
        Services = new Informer<V1Service>(ListWatches.Services(client), informerOptions);
        Slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(client), informerOptions);
        ServiceCidrs = new Informer<V1ServiceCIDR>(ListWatches.ServiceCidrs(client), informerOptions);
    }

    public Informer<V1Node> Nodes { get; }

    public Informer<V1Pod> Pods { get; }

    public Informer<V1Namespace> Namespaces { get; }

    public Informer<V1NetworkPolicy> Policies { get; }

    public Informer<Policy.ClusterNetworkPolicyObject> ClusterPolicies { get; }

    public Informer<V1Service> Services { get; }

    public Informer<V1EndpointSlice> Slices { get; }

    public Informer<V1ServiceCIDR> ServiceCidrs { get; }

    public IEnumerable<Task> RunAll(CancellationToken token) =>
    [
        Nodes.RunAsync(token), Pods.RunAsync(token), Services.RunAsync(token), Slices.RunAsync(token),
        ServiceCidrs.RunAsync(token), Namespaces.RunAsync(token), Policies.RunAsync(token), ClusterPolicies.RunAsync(token),
    ];
}
