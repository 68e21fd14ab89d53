using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Auth.Rbac;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// What every request passes before it is served, in kube-apiserver's filter order:
/// authentication (401 when credentials are wrong), impersonation, authorization (403 worded as
/// upstream). The user is kept on the request for the review APIs and admission.
/// </summary>
internal sealed class AccessGate(Authenticator authenticator, RbacAuthorizer authorizer, Tokens.ServiceAccountTokens? tokens = null, Func<string>? serverUrl = null)
{
    private const string UserKey = "podnet.user";

    private static readonly AsyncLocal<UserInfo?> Current = new();

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
        user = Impersonation.Apply(context, user, authorizer.Authorize);
        context.Items[UserKey] = user;
        Current.Value = user;
        var request = context.Request;
        var attributes = RequestAttributes.From(user, request.Method, request.Path.Value ?? "/", k => request.Query[k], context.WebSockets.IsWebSocketRequest);
        var (allowed, reason) = authorizer.Authorize(attributes);
        if (!allowed)
        {
            throw Forbidden.For(attributes, reason);
        }
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
                await Bodies.WriteAsync(context.Response, 201, tokens.Request(ns, name, request)).ConfigureAwait(false);
                return true;
            }
        }
        return await Reviews.TryServeAsync(context, path, user, authorizer, tokens is null ? null : tokens.Review).ConfigureAwait(false);
    }

    /// <summary>The user <see cref="Admit"/> found for this request.</summary>
    public static UserInfo UserOf(HttpContext context) =>
        context.Items.TryGetValue(UserKey, out var user) && user is UserInfo u ? u : UserInfo.AnonymousUser;
}
