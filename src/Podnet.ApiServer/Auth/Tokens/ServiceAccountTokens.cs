using System.Globalization;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Auth.Tokens;

/// <summary>
/// Bound ServiceAccount tokens as kube-apiserver issues and checks them: the TokenRequest API
/// (serviceaccounts/NAME/token), the token authenticator, TokenReview's status, and the OIDC
/// discovery documents.
/// </summary>
/// <remarks>
/// Claims are upstream's: iss, sub (system:serviceaccount:NS:NAME), aud, exp, iat, nbf, jti and
/// "kubernetes.io" with namespace, serviceaccount {name, uid} and, for a token bound to a pod,
/// pod {name, uid} and the pod's node {name, uid}. A token is accepted only while its
/// ServiceAccount (same uid) exists and, when bound, its pod or node (same uid, not being
/// deleted): deleting either revokes it at once. As upstream's default
/// --service-account-extend-token-expiration, a pod-bound request for exactly 3607 s (kubelet's)
/// gets a token valid for a year with "warnafter" at 3607 s, while its status still reports the
/// requested expiry: pods need no refresh within a lab's life, and revocation still holds.
/// A token's signature is verified once and its claims kept until it expires (as upstream's
/// cached token authenticator, without its 10 s staleness): the ServiceAccount and the bound
/// object are looked up in the store's memory on every request, so a deletion still revokes
/// the token at once.
/// </remarks>
internal sealed class ServiceAccountTokens(TokenSigner signer, ObjectStore store, TimeProvider clock, string issuer)
{
    public const int KubeletExpirationSeconds = 3607;
    private const long ExtendedSeconds = 365L * 24 * 3600;
    private const long MinSeconds = 600;
    private const long MaxSeconds = 1L << 32;

    /// <summary>Verified tokens kept (a lab has a few per pod); past it, expired ones go, else all.</summary>
    public const int MaxCachedTokens = 4096;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, VerifiedToken> _verified = new(StringComparer.Ordinal);

    public string Issuer => issuer;

    public IReadOnlyList<string> ApiAudiences => [issuer];

    /// <summary>Answers a TokenRequest for NS/NAME: the request object with status {token, expirationTimestamp}.</summary>
    public JsonObject Request(string ns, string name, JsonObject request, UserInfo? user = null)
    {
        var account = store.Get(ResourceCatalog.ServiceAccounts.Key, ns, name)?.Parse() ?? throw ApiException.NotFound(ResourceCatalog.ServiceAccounts, name);
        var spec = request["spec"] as JsonObject ?? [];
        var seconds = ObjectMeta.Long(spec["expirationSeconds"]) ?? 3600;
        var causes = new List<FieldCause>();
        if (seconds < MinSeconds)
        {
            causes.Add(FieldCause.Invalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"));
        }
        if (seconds > MaxSeconds)
        {
            causes.Add(FieldCause.Invalid("spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds"));
        }
        var audiences = (spec["audiences"] as JsonArray ?? []).Select(a => (string?)a ?? "").Where(a => a.Length > 0).ToList();
        var bound = spec["boundObjectRef"] as JsonObject;
        var kind = (string?)bound?["kind"];
        if (bound is not null && kind is not ("Pod" or "Secret" or "Node"))
        {
            causes.Add(FieldCause.NotSupported("spec.boundObjectRef.kind", kind ?? "", ["Pod", "Secret", "Node"]));
        }
        if (causes.Count > 0)
        {
            var summary = causes.Count == 1 ? $"{causes[0].Field}: {causes[0].Message}" : "[" + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}")) + "]";
            throw new ApiException(422, "Invalid", $"TokenRequest.authentication.k8s.io \"{name}\" is invalid: {summary}", new JsonObject
            {
                ["name"] = name,
                ["group"] = "authentication.k8s.io",
                ["kind"] = "TokenRequest",
                ["causes"] = new JsonArray(causes.Select(c => (JsonNode)new JsonObject { ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field }).ToArray()),
            });
        }
        if (bound is null && user is not null)
        {
            Node.NodeRestriction.AdmitTokenRequest(user, null, null);
        }
        var now = clock.GetUtcNow();
        var sa = new JsonObject { ["name"] = name, ["uid"] = account.Uid() };
        var k8s = new JsonObject { ["namespace"] = ns };
        if (bound is not null)
        {
            var (resource, objectNs) = kind switch { "Pod" => (ResourceCatalog.Pods, ns), "Secret" => (ResourceCatalog.Secrets, ns), _ => (ResourceCatalog.Nodes, "") };
            var target = store.Get(resource.Key, objectNs, (string?)bound["name"] ?? "")?.Parse() ?? throw ApiException.NotFound(resource, (string?)bound["name"] ?? "");
            if ((string?)bound["uid"] is { Length: > 0 } uid && uid != target.Uid())
            {
                throw ApiException.Conflict(resource, target.Name(), $"the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated");
            }
            if (user is not null)
            {
                Node.NodeRestriction.AdmitTokenRequest(user, bound, kind == "Pod" ? target : null);
            }
            var reference = new JsonObject { ["name"] = target.Name(), ["uid"] = target.Uid() };
            k8s[kind == "Pod" ? "pod" : kind == "Secret" ? "secret" : "node"] = reference;
            if (kind == "Pod" && (string?)target["spec"]?["nodeName"] is { Length: > 0 } nodeName && store.Get(ResourceCatalog.Nodes.Key, "", nodeName)?.Parse() is { } node)
            {
                k8s["node"] = new JsonObject { ["name"] = nodeName, ["uid"] = node.Uid() };
            }
        }
        k8s["serviceaccount"] = sa;
        var lifetime = seconds;
        if (kind == "Pod" && seconds == KubeletExpirationSeconds)
        {
            lifetime = ExtendedSeconds;
            k8s["warnafter"] = now.ToUnixTimeSeconds() + seconds;
        }
        var claims = new JsonObject
        {
            ["aud"] = new JsonArray((audiences.Count > 0 ? audiences : ApiAudiences).Select(a => (JsonNode)JsonValue.Create(a)).ToArray()),
            ["exp"] = now.ToUnixTimeSeconds() + lifetime,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["iss"] = issuer,
            ["jti"] = Guid.NewGuid().ToString(),
            ["kubernetes.io"] = k8s,
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["sub"] = UserInfo.ServiceAccountName(ns, name),
        };
        var answer = request.DeepClone().AsObject();
        answer["kind"] = "TokenRequest";
        answer["apiVersion"] = "authentication.k8s.io/v1";
        answer["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["creationTimestamp"] = ObjectMeta.Timestamp(now) };
        spec["expirationSeconds"] = seconds;
        spec["audiences"] = new JsonArray((audiences.Count > 0 ? audiences : ApiAudiences).Select(a => (JsonNode)JsonValue.Create(a)).ToArray());
        answer["spec"] = spec.DeepClone();
        answer["status"] = new JsonObject { ["token"] = signer.Sign(claims), ["expirationTimestamp"] = ObjectMeta.Timestamp(now.AddSeconds(seconds)) };
        return answer;
    }

    /// <summary>The user a token stands for when it is valid for one of <paramref name="audiences"/>; null otherwise, with the reason.</summary>
    public (UserInfo? User, IReadOnlyList<string> Audiences, string Error) Authenticate(string token, IReadOnlyList<string>? audiences = null)
    {
        var wanted = audiences is { Count: > 0 } ? audiences : ApiAudiences;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var verified = Verified(token, now);
        if (verified is null)
        {
            return (null, [], "invalid bearer token");
        }
        var matched = wanted.Where(verified.Audiences.Contains).ToList();
        if (verified.Issuer != issuer || matched.Count == 0)
        {
            return (null, [], "token audiences " + string.Join(",", verified.Audiences) + " is invalid for the target audiences " + string.Join(",", wanted));
        }
        if (verified.Exp is not { } exp || exp < now || verified.Nbf is { } nbf && nbf > now + 60)
        {
            return (null, [], "service account token has expired");
        }
        // Checked on every request, cached or not: deleting the account or the bound object
        // revokes the token at once (and its cache entry with it).
        var (ns, saName) = (verified.Namespace, verified.ServiceAccount);
        if (!Alive(ResourceCatalog.ServiceAccounts, ns, saName, verified.ServiceAccountUid))
        {
            _verified.TryRemove(token, out _);
            return (null, [], $"service account {ns}/{saName} has been deleted");
        }
        foreach (var (resource, objectNs, name, uid) in verified.Bound)
        {
            if (!Alive(resource, objectNs, name, uid))
            {
                _verified.TryRemove(token, out _);
                return (null, [], $"{resource.Singular} \"{name}\" bound to the token has been deleted");
            }
        }
        return (verified.User, matched, "");
    }

    /// <summary>
    /// The token's claims once its signature checked out, from the cache or verified now (ES256
    /// verification is most of an authenticated request's cost). Entries are kept until the
    /// token's expiry, at most <see cref="MaxCachedTokens"/> of them; only valid signatures are
    /// cached, so garbage cannot fill it.
    /// </summary>
    private VerifiedToken? Verified(string token, long now)
    {
        if (_verified.TryGetValue(token, out var cached))
        {
            if (cached.Exp < now)
            {
                _verified.TryRemove(token, out _); // Authenticate answers "expired"
            }
            return cached;
        }
        var claims = signer.Verify(token);
        if (claims is null)
        {
            return null;
        }
        var verified = VerifiedToken.From(claims);
        if (verified.Exp is { } end && end >= now)
        {
            if (_verified.Count >= MaxCachedTokens)
            {
                foreach (var (key, entry) in _verified)
                {
                    if (entry.Exp < now)
                    {
                        _verified.TryRemove(key, out _);
                    }
                }
                if (_verified.Count >= MaxCachedTokens)
                {
                    _verified.Clear();
                }
            }
            _verified[token] = verified;
        }
        return verified;
    }

    /// <summary>What a verified token says, decoded once: everything but the liveness of the objects it names.</summary>
    private sealed record VerifiedToken(
        string? Issuer,
        IReadOnlyList<string> Audiences,
        long? Exp,
        long? Nbf,
        string Namespace,
        string ServiceAccount,
        string? ServiceAccountUid,
        IReadOnlyList<(ResourceInfo Resource, string Namespace, string Name, string? Uid)> Bound,
        UserInfo User)
    {
        public static VerifiedToken From(JsonObject claims)
        {
            var tokenAudiences = claims["aud"] is JsonArray a ? a.Select(x => (string?)x ?? "").ToList() : (string?)claims["aud"] is { } one ? [one] : [];
            var k8s = claims["kubernetes.io"] as JsonObject;
            var ns = (string?)k8s?["namespace"] ?? "";
            var saName = (string?)k8s?["serviceaccount"]?["name"] ?? "";
            var saUid = (string?)k8s?["serviceaccount"]?["uid"];
            var bound = new List<(ResourceInfo, string, string, string?)>();
            var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (kind, resource, objectNs) in new[] { ("pod", ResourceCatalog.Pods, ns), ("secret", ResourceCatalog.Secrets, ns), ("node", ResourceCatalog.Nodes, "") })
            {
                if (k8s?[kind] is not JsonObject reference)
                {
                    continue;
                }
                var refName = (string?)reference["name"] ?? "";
                // A pod-bound token names the pod's node for information; only the pod must live.
                if (kind != "node" || k8s["pod"] is null)
                {
                    bound.Add((resource, objectNs, refName, (string?)reference["uid"]));
                }
                if (kind is "pod" or "node")
                {
                    extra[$"authentication.kubernetes.io/{kind}-name"] = [refName];
                    extra[$"authentication.kubernetes.io/{kind}-uid"] = [(string?)reference["uid"] ?? ""];
                }
            }
            if ((string?)claims["jti"] is { Length: > 0 } jti)
            {
                extra["authentication.kubernetes.io/credential-id"] = [$"JTI={jti}"];
            }
            var user = UserInfo.Authenticated(UserInfo.ServiceAccountName(ns, saName), UserInfo.ServiceAccountGroups(ns), saUid ?? "", extra);
            return new VerifiedToken((string?)claims["iss"], tokenAudiences, Number(claims["exp"]), Number(claims["nbf"]), ns, saName, saUid, bound, user);
        }
    }

    /// <summary>TokenReview's status for a review's spec {token, audiences}.</summary>
    public JsonObject Review(JsonObject spec)
    {
        var audiences = (spec["audiences"] as JsonArray ?? []).Select(a => (string?)a ?? "").ToList();
        var (user, matched, error) = Authenticate((string?)spec["token"] ?? "", audiences);
        if (user is null)
        {
            return new JsonObject { ["user"] = new JsonObject(), ["error"] = "[" + error + "]" };
        }
        return new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = Reviews.UserJson(user),
            ["audiences"] = new JsonArray(matched.Select(a => (JsonNode)JsonValue.Create(a)).ToArray()),
        };
    }

    public JsonObject OpenIdConfiguration(string serverUrl) => new()
    {
        ["issuer"] = issuer,
        ["jwks_uri"] = serverUrl.TrimEnd('/') + "/openid/v1/jwks",
        ["response_types_supported"] = new JsonArray("id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("ES256"),
    };

    public JsonObject Jwks() => new() { ["keys"] = new JsonArray(signer.PublicJwk()) };

    private bool Alive(ResourceInfo r, string ns, string name, string? uid) =>
        store.Get(r.Key, ns, name) is { } o && !o.Deleting && (string.IsNullOrEmpty(uid) || o.Uid == uid);

    private static long? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<long>(out var n) ? n
        : node is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x
        : null;
}
