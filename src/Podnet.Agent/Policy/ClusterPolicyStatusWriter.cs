using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Runtime;

namespace Podnet.Agent.Policy;

/// <summary>
/// Keeps each ClusterNetworkPolicy's <c>Accepted</c> condition (<see cref="ClusterPolicyStatus"/>)
/// true to its spec: a loop over the agent's CNP informer, keyed by name, that writes the status
/// subresource (PUT with the resourceVersion it read) only where the condition is not already right.
/// A conflict or a deletion is left to the informer, whose newer event wakes the loop again.
/// </summary>
public sealed class ClusterPolicyStatusWriter
{
    private readonly AgentOptions _options;
    private readonly IKubernetes _client;
    private readonly Informer<ClusterNetworkPolicyObject> _policies;
    private readonly TimeProvider _time;
    private readonly SyncLoop _loop;
    private bool _forbiddenLogged;

    public ClusterPolicyStatusWriter(AgentOptions options, IKubernetes client, Informer<ClusterNetworkPolicyObject> policies, TimeProvider time)
    {
        _options = options;
        _client = client;
        _policies = policies;
        _time = time;
        _loop = new SyncLoop("cnp-status", SyncAsync, TimeSpan.FromMilliseconds(100)) { Log = options.Log };
        _loop.WakeOn(policies, p => p.Metadata.Name);
    }

    public Task RunAsync(CancellationToken token) => _loop.RunAsync(token);

    private async Task SyncAsync(SyncRequest request, CancellationToken token)
    {
        foreach (var policy in _policies.Cache.List().Where(p => request.Full || request.Keys!.Contains(p.Metadata.Name ?? "")))
        {
            var problems = ObjectProjection.ClusterNetworkPolicyProblems(policy.Spec);
            if (ClusterPolicyStatus.Calc(policy.Status, policy.Metadata.Generation ?? 0, problems, _time.GetUtcNow()) is not { } status)
            {
                continue;
            }
            var body = new JsonObject
            {
                ["apiVersion"] = policy.ApiVersion,
                ["kind"] = policy.Kind,
                ["metadata"] = new JsonObject { ["name"] = policy.Metadata.Name, ["resourceVersion"] = policy.Metadata.ResourceVersion },
                ["spec"] = policy.Spec?.DeepClone(),
                ["status"] = status,
            };
            try
            {
                await _client.CustomObjects.ReplaceClusterCustomObjectStatusAsync(body, ClusterNetworkPolicyObject.Group, ClusterNetworkPolicyObject.Version,
                    ClusterNetworkPolicyObject.Plural, policy.Metadata.Name, cancellationToken: token).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
            {
                // Another agent wrote first, or the policy is gone: the informer's next event judges again.
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                if (!_forbiddenLogged)
                {
                    _forbiddenLogged = true;
                    _options.Log($"cnp-status: may not update clusternetworkpolicies/status (deploy/rbac.yaml's podnet:agent grants it): {e.Response.Content}");
                }
            }
        }
    }
}
