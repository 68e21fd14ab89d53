using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Auth.Rbac;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// What every request passes before it is served, in kube-apiserver's filter order:
/// authentication (401 when credentials are wrong), impersonation, authorization (403 worded as
/// upstream). The user is kept on the request for the review APIs and admission.
/// </summary>
internal sealed class AccessGate(Authenticator authenticator, RbacAuthorizer authorizer, Tokens.ServiceAccountTokens? tokens = null, Func<string>? serverUrl = null, Node.NodeRestriction? nodeRestriction = null)
{
    private const string UserKey = "podnet.user";

    private static readonly AsyncLocal<UserInfo?> Current = new();

    private static long s_forbidden;

    /// <summary>
    /// The user of the request being served on this async flow (null for the server's own
    /// writes: bootstrap, sweeper, controllers' work done inside the server), for admission.
    /// </summary>
    public static UserInfo? RequestUser => Current.Value;

    public RbacAuthorizer Authorizer => authorizer;

    public Authenticator Authenticator => authenticator;

    /// <summary>Authenticates and authorizes the request; throws the 401 or 403 it gets otherwise.</summary>
    public UserInfo Admit(HttpContext context)
    {
        var user = authenticator.Authenticate(context) ?? throw Authenticator.Unauthorized();
        AuditLog.NoteAuthenticated(context, user);
        user = Impersonation.Apply(context, user, authorizer.Authorize);
        context.Items[UserKey] = user;
        Current.Value = user;
        var request = context.Request;
        var attributes = RequestAttributes.From(user, request.Method, request.Path.Value ?? "/", k => request.Query[k], context.WebSockets.IsWebSocketRequest);
        var (allowed, reason) = authorizer.Authorize(attributes);
        AuditLog.NoteDecision(context, allowed, reason);
        if (!allowed)
        {
            throw Forbidden.For(attributes, reason);
        }
        nodeRestriction?.CheckRequest(attributes);
        return user;
    }

    /// <summary>
    /// Serves the authentication and authorization APIs of their own (reviews, TokenRequest,
    /// the service-account issuer's OIDC documents); false for any other path.
    /// </summary>
    public async Task<bool> ServeAsync(HttpContext context, string path, UserInfo user)
    {
        if (tokens is not null)
        {
            var trimmed = path.TrimEnd('/');
            if (context.Request.Method == "GET" && trimmed is "/openid/v1/jwks" or "/.well-known/openid-configuration")
            {
                var jwks = trimmed == "/openid/v1/jwks";
                context.Response.StatusCode = 200;
                context.Response.ContentType = jwks ? "application/jwk-set+json" : "application/json";
                var body = jwks ? tokens.Jwks() : tokens.OpenIdConfiguration(serverUrl?.Invoke() ?? "");
                await context.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
                return true;
            }
            // POST /api/v1/namespaces/NS/serviceaccounts/NAME/token
            if (path.Trim('/').Split('/') is ["api", "v1", "namespaces", var ns, "serviceaccounts", var name, "token"])
            {
                if (context.Request.Method != "POST")
                {
                    throw ApiException.MethodNotAllowed("the server does not allow this method on the requested resource");
                }
                var request = await Bodies.ReadObjectAsync(context.Request).ConfigureAwait(false);
                await Bodies.WriteAsync(context.Response, 201, tokens.Request(ns, name, request, user)).ConfigureAwait(false);
                return true;
            }
        }
        return await Reviews.TryServeAsync(context, path, user, authorizer, tokens is null ? null : tokens.Review).ConfigureAwait(false);
    }

    /// <summary>How many requests were answered 403 Forbidden since the start.</summary>
    public static long ForbiddenCount => Interlocked.Read(ref s_forbidden);

    /// <summary>
    /// Notes a 403 (by an authorizer or an admission) on standard error, one line with the user,
    /// its groups, the verb and the resource, as an audit log's denials: a Podnet component that
    /// lacks a permission shows here (the lab tests read these lines).
    /// </summary>
    public static void RecordForbidden(HttpContext context, ApiException e)
    {
        Interlocked.Increment(ref s_forbidden);
        var user = UserOf(context);
        var request = context.Request;
        var a = RequestAttributes.From(user, request.Method, request.Path.Value ?? "/", k => request.Query[k], context.WebSockets.IsWebSocketRequest);
        var what = a.IsResourceRequest
            ? $"resource={a.QualifiedResource}{(a.Subresource.Length > 0 ? "/" + a.Subresource : "")} namespace={a.Namespace} name={a.Name}"
            : $"path={a.Path}";
        Console.Error.WriteLine($"podnet server: forbidden: user={user.Name} groups={string.Join(',', user.Groups)} verb={a.Verb} {what}: {e.Message}");
    }

    /// <summary>The user <see cref="Admit"/> found for this request.</summary>
    public static UserInfo UserOf(HttpContext context) =>
        context.Items.TryGetValue(UserKey, out var user) && user is UserInfo u ? u : UserInfo.AnonymousUser;
}
