using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace Podnet.Agent.Runtime;

/// <summary>
/// Each pod's own ServiceAccount token, as kubelet's token manager gets it: a TokenRequest for
/// the pod's account bound to the pod (kubelet's 3607 s, which the API server extends as
/// upstream does), kept per pod and requested again once 80 % of the requested lifetime has
/// passed, so projected token volumes are rewritten before the token would expire. No pod ever
/// gets the agent's own credential.
/// </summary>
public sealed class PodTokens(IKubernetes client, TimeProvider clock)
{
    public const int ExpirationSeconds = 3607;

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RefreshAt)> _tokens = new(StringComparer.Ordinal);

    public async Task<string> ForAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata.Uid;
        var now = clock.GetUtcNow();
        if (_tokens.TryGetValue(uid, out var known) && now < known.RefreshAt)
        {
            return known.Token;
        }
        var account = pod.Spec?.ServiceAccountName is { Length: > 0 } name ? name : "default";
        var request = new Authenticationv1TokenRequest
        {
            Spec = new V1TokenRequestSpec
            {
                ExpirationSeconds = ExpirationSeconds,
                BoundObjectRef = new V1BoundObjectReference { Kind = "Pod", ApiVersion = "v1", Name = pod.Metadata.Name, Uid = uid },
            },
        };
        var answer = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, account, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        var token = answer.Status?.Token ?? throw new InvalidOperationException($"the TokenRequest for {pod.Metadata.NamespaceProperty}/{account} returned no token");
        _tokens[uid] = (token, now.AddSeconds(ExpirationSeconds * 0.8));
        return token;
    }

    /// <summary>
    /// Whether the pod gets the service-account files: its automountServiceAccountToken, else its
    /// account's, else yes (as the ServiceAccount admission decides upstream).
    /// </summary>
    public async Task<bool> AutomountAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        if (pod.Spec?.AutomountServiceAccountToken is { } own)
        {
            return own;
        }
        var account = pod.Spec?.ServiceAccountName is { Length: > 0 } name ? name : "default";
        var sa = await client.CoreV1.ReadNamespacedServiceAccountAsync(account, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        return sa.AutomountServiceAccountToken != false;
    }

    public void Forget(string uid) => _tokens.TryRemove(uid, out _);
}
