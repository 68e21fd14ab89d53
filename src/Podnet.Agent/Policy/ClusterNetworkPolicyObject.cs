using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Agent.Policy;

/// <summary>
/// A policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy as the agent's informer holds it:
/// typed metadata (the informer keys and versions by it), the spec and status as JSON, the spec for
/// <c>ObjectProjection.ToClusterNetworkPolicyInfo</c>. The agent is not NativeAOT, so
/// KubernetesClient's reflection-based JSON reads it.
/// </summary>
public sealed class ClusterNetworkPolicyObject : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "policy.networking.k8s.io";
    public const string Version = "v1alpha2";
    public const string Plural = "clusternetworkpolicies";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group + "/" + Version;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ClusterNetworkPolicy";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public JsonObject? Spec { get; set; }

    /// <summary>The status as last read (its conditions are what <see cref="ClusterPolicyStatusWriter"/> keeps right).</summary>
    [JsonPropertyName("status")]
    public JsonObject? Status { get; set; }
}

public sealed class ClusterNetworkPolicyObjectList : IItems<ClusterNetworkPolicyObject>, IMetadata<V1ListMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = ClusterNetworkPolicyObject.Group + "/" + ClusterNetworkPolicyObject.Version;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ClusterNetworkPolicyList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<ClusterNetworkPolicyObject> Items { get; set; } = [];
}

/// <summary>
/// List and watch of ClusterNetworkPolicies. A cluster without the CRD (404) lists as empty, so
/// NetworkPolicy is enforced (and pods start) without it; its watch then waits
/// <see cref="MissingRetry"/> and reports 410 Expired, so the informer lists again and picks
/// the CRD up once it is installed.
/// </summary>
public sealed class ClusterNetworkPolicyListWatch(IKubernetes client) : IListWatch<ClusterNetworkPolicyObject>
{
    public static readonly TimeSpan MissingRetry = TimeSpan.FromSeconds(5);

    private volatile bool _missing;

    public async Task<ListResult<ClusterNetworkPolicyObject>> ListAsync(CancellationToken cancellationToken)
    {
        try
        {
            var list = await client.CustomObjects.ListClusterCustomObjectAsync<ClusterNetworkPolicyObjectList>(
                ClusterNetworkPolicyObject.Group, ClusterNetworkPolicyObject.Version, ClusterNetworkPolicyObject.Plural, cancellationToken: cancellationToken).ConfigureAwait(false);
            _missing = false;
            return new ListResult<ClusterNetworkPolicyObject>([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            _missing = true;
            return new ListResult<ClusterNetworkPolicyObject>([], "");
        }
    }

    public async IAsyncEnumerable<WatchEvent<ClusterNetworkPolicyObject>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_missing)
        {
            await Task.Delay(MissingRetry, cancellationToken).ConfigureAwait(false);
            yield return new WatchEvent<ClusterNetworkPolicyObject>(WatchEventType.Error, null, new V1Status { Code = 410, Reason = "Expired", Message = "the ClusterNetworkPolicy CRD is not installed" });
            yield break;
        }
        var inner = new KubernetesListWatch<ClusterNetworkPolicyObject, ClusterNetworkPolicyObjectList>(
            ct => throw new NotSupportedException(),
            (rv, onError, ct) => Typed(client.CustomObjects.WatchListClusterCustomObjectAsync(
                ClusterNetworkPolicyObject.Group, ClusterNetworkPolicyObject.Version, ClusterNetworkPolicyObject.Plural,
                allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: ListWatches.WatchTimeoutSeconds, onError: onError, cancellationToken: ct)));
        await foreach (var e in inner.WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    // The custom-object watch yields untyped JSON; each event's object is read once more as the typed object.
    private static async IAsyncEnumerable<(WatchEventType, ClusterNetworkPolicyObject)> Typed(IAsyncEnumerable<(WatchEventType, object)> events)
    {
        await foreach (var (type, item) in events.ConfigureAwait(false))
        {
            yield return (type, KubernetesJson.Deserialize<ClusterNetworkPolicyObject>(KubernetesJson.Serialize(item)));
        }
    }
}
