using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// kube-apiserver's log backend of auditing (--audit-log-path): one audit.k8s.io/v1 Event per
/// line, at level Metadata — who, what verb on which object, the answer's code, and the
/// authorizer's decision and reason as the annotations upstream writes
/// (authorization.k8s.io/decision, authorization.k8s.io/reason). A request gets its event at
/// stage ResponseComplete; a watch also at ResponseStarted, as upstream writes for long-running
/// requests. Every request is logged, before the in-flight limits (as upstream's filter order):
/// there is no audit policy file here, so the level is always Metadata (no bodies). Each
/// request's Audit-ID is answered in the header of that name. Written under a lock, one flush
/// per line, so that a reader (a test, `tail -f`) sees whole lines as soon as they happen.
/// </summary>
internal sealed class AuditLog : IDisposable
{
    private const string DecisionKey = "podnet.audit.decision";
    private const string ErrorKey = "podnet.audit.error";
    private const string AuthenticatedKey = "podnet.audit.user";

    private readonly FileStream _file;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public AuditLog(string path, TimeProvider? time = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Who authenticated (before impersonation: the event's user; the impersonated one is its impersonatedUser).</summary>
    public static void NoteAuthenticated(HttpContext context, UserInfo user) => context.Items[AuthenticatedKey] = user;

    /// <summary>The authorizer's decision on a request, kept for its audit event.</summary>
    public static void NoteDecision(HttpContext context, bool allowed, string reason) =>
        context.Items[DecisionKey] = (allowed, reason);

    /// <summary>The error a request was answered with (its reason and message go into responseStatus).</summary>
    public static void NoteError(HttpContext context, Http.ApiException e) => context.Items[ErrorKey] = e;

    public async Task ServeAsync(HttpContext context, RequestDelegate next)
    {
        var received = _time.GetUtcNow();
        var id = Guid.NewGuid().ToString();
        context.Response.Headers["Audit-ID"] = id;
        context.Response.OnStarting(() =>
        {
            if (Attributes(context).Verb == "watch")
            {
                Write(context, id, "ResponseStarted", received);
            }
            return Task.CompletedTask;
        });
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            Write(context, id, "ResponseComplete", received);
        }
    }

    private static RequestAttributes Attributes(HttpContext context)
    {
        var request = context.Request;
        return RequestAttributes.From(AccessGate.UserOf(context), request.Method, request.Path.Value ?? "/", k => request.Query[k], context.WebSockets.IsWebSocketRequest);
    }

    private void Write(HttpContext context, string id, string stage, DateTimeOffset received)
    {
        var a = Attributes(context);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", "Event");
            json.WriteString("apiVersion", "audit.k8s.io/v1");
            json.WriteString("level", "Metadata");
            json.WriteString("auditID", id);
            json.WriteString("stage", stage);
            json.WriteString("requestURI", context.Request.Path.Value + context.Request.QueryString.Value);
            json.WriteString("verb", a.Verb);
            // No user at all when authentication failed (401), as upstream.
            var authenticated = context.Items.TryGetValue(AuthenticatedKey, out var u) && u is UserInfo known ? known : null;
            WriteUser(json, "user", authenticated);
            if (authenticated is not null && !ReferenceEquals(authenticated, a.User))
            {
                WriteUser(json, "impersonatedUser", a.User);
            }
            json.WriteStartArray("sourceIPs");
            if (context.Connection.RemoteIpAddress is { } remote)
            {
                json.WriteStringValue((remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
            }
            json.WriteEndArray();
            if (context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent)
            {
                json.WriteString("userAgent", agent);
            }
            if (a.IsResourceRequest && a.Resource.Length > 0)
            {
                json.WriteStartObject("objectRef");
                json.WriteString("resource", a.Resource);
                WriteIfAny(json, "namespace", a.Namespace);
                WriteIfAny(json, "name", a.Name);
                WriteIfAny(json, "apiGroup", a.ApiGroup);
                WriteIfAny(json, "apiVersion", a.ApiVersion);
                WriteIfAny(json, "subresource", a.Subresource);
                json.WriteEndObject();
            }
            json.WriteStartObject("responseStatus");
            json.WriteStartObject("metadata");
            json.WriteEndObject();
            var code = context.Response.StatusCode;
            if (code >= 300 && context.Items.TryGetValue(ErrorKey, out var error) && error is Http.ApiException e)
            {
                json.WriteString("status", "Failure");
                json.WriteString("message", e.Message);
                json.WriteString("reason", e.Reason);
            }
            json.WriteNumber("code", code);
            json.WriteEndObject();
            json.WriteString("requestReceivedTimestamp", received.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"));
            json.WriteString("stageTimestamp", _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"));
            if (context.Items.TryGetValue(DecisionKey, out var noted) && noted is (bool allowed, string reason))
            {
                json.WriteStartObject("annotations");
                json.WriteString("authorization.k8s.io/decision", allowed ? "allow" : "forbid");
                json.WriteString("authorization.k8s.io/reason", reason);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        lock (_lock)
        {
            _file.Write(buffer.WrittenSpan);
            _file.WriteByte((byte)'\n');
            _file.Flush();
        }
    }

    private static void WriteUser(Utf8JsonWriter json, string property, UserInfo? user)
    {
        json.WriteStartObject(property);
        if (user is not null)
        {
            json.WriteString("username", user.Name);
            if (user.Uid.Length > 0)
            {
                json.WriteString("uid", user.Uid);
            }
            json.WriteStartArray("groups");
            foreach (var group in user.Groups)
            {
                json.WriteStringValue(group);
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void WriteIfAny(Utf8JsonWriter json, string name, string value)
    {
        if (value.Length > 0)
        {
            json.WriteString(name, value);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }
}
