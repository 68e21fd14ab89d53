using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// --audit-log-path: one audit.k8s.io/v1 Event per line at level Metadata, with the
/// authorizer's decision and reason, the impersonated user beside the real one, no user on a
/// 401, and a watch's ResponseStarted before its ResponseComplete.
/// </summary>
public sealed class AuditLogTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-audit-").FullName;
    private ApiServerHost _host = null!;
    private HttpClient _http = null!;

    private string LogPath => Path.Combine(_directory, "audit", "audit.log");

    public async Task InitializeAsync()
    {
        _host = await ApiServerHost.StartAsync(new ApiServerOptions
        {
            StateDirectory = _directory,
            Port = 0,
            BindAddresses = [IPAddress.Loopback],
            Controllers = [],
            AuditLogPath = LogPath,
        });
        _http = ServerFixture.CreateHttpClient(_host);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private List<JsonObject> Events(string auditId) =>
        File.ReadAllLines(LogPath).Select(l => JsonNode.Parse(l)!.AsObject()).Where(e => (string?)e["auditID"] == auditId).ToList();

    /// <summary>
    /// The request's events once there are <paramref name="count"/>: the server writes
    /// ResponseComplete after its handler returns, which may be just after the client has read
    /// the answer (bounded at 30 s).
    /// </summary>
    private async Task<List<JsonObject>> EventsAsync(string auditId, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Events(auditId).Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        return Events(auditId);
    }

    private static string AuditId(HttpResponseMessage response) => response.Headers.GetValues("Audit-ID").Single();

    [Fact]
    public async Task AllowedRequest_OneMetadataEvent_WithObjectRefAndRbacDecision()
    {
        using var response = await _http.GetAsync("/api/v1/namespaces/default");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var e = Assert.Single(await EventsAsync(AuditId(response)));
        Assert.Equal("Event", (string?)e["kind"]);
        Assert.Equal("audit.k8s.io/v1", (string?)e["apiVersion"]);
        Assert.Equal("Metadata", (string?)e["level"]);
        Assert.Equal("ResponseComplete", (string?)e["stage"]);
        Assert.Equal("get", (string?)e["verb"]);
        Assert.Equal("/api/v1/namespaces/default", (string?)e["requestURI"]);
        Assert.Equal("podnet:legacy-token", (string?)e["user"]!["username"]); // the server token's user
        Assert.Equal("namespaces", (string?)e["objectRef"]!["resource"]);
        Assert.Equal("default", (string?)e["objectRef"]!["name"]);
        Assert.Equal("v1", (string?)e["objectRef"]!["apiVersion"]);
        Assert.Null(e["objectRef"]!["apiGroup"]);
        Assert.Equal(200, (int?)e["responseStatus"]!["code"]);
        Assert.Equal("allow", (string?)e["annotations"]!["authorization.k8s.io/decision"]);
        Assert.Equal(["127.0.0.1"], e["sourceIPs"]!.AsArray().Select(ip => (string?)ip));
        Assert.True(DateTime.Parse((string)e["stageTimestamp"]!) >= DateTime.Parse((string)e["requestReceivedTimestamp"]!));
    }

    [Fact]
    public async Task ImpersonatedForbidden_EventNamesBothUsers_TheForbidDecision_AndTheStatus()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/kube-system/secrets/x");
        request.Headers.Add("Impersonate-User", "system:serviceaccount:default:nobody");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var e = Assert.Single(await EventsAsync(AuditId(response)));
        Assert.Equal("podnet:legacy-token", (string?)e["user"]!["username"]); // the server token's user
        Assert.Equal("system:serviceaccount:default:nobody", (string?)e["impersonatedUser"]!["username"]);
        Assert.Equal("secrets", (string?)e["objectRef"]!["resource"]);
        Assert.Equal("kube-system", (string?)e["objectRef"]!["namespace"]);
        Assert.Equal(403, (int?)e["responseStatus"]!["code"]);
        Assert.Equal("Forbidden", (string?)e["responseStatus"]!["reason"]);
        Assert.Contains("cannot get resource \"secrets\"", (string?)e["responseStatus"]!["message"]);
        Assert.Equal("forbid", (string?)e["annotations"]!["authorization.k8s.io/decision"]);
    }

    [Fact]
    public async Task BadToken_401_EventHasNoUser()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/pods");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var e = Assert.Single(await EventsAsync(AuditId(response)));
        Assert.Empty(e["user"]!.AsObject());
        Assert.Null(e["annotations"]);
        Assert.Equal(401, (int?)e["responseStatus"]!["code"]);
    }

    [Fact]
    public async Task Watch_ResponseStartedThenResponseComplete_WhenTheClientGoes()
    {
        string id;
        using (var cancel = new CancellationTokenSource())
        {
            using var response = await _http.GetAsync("/api/v1/namespaces/default/configmaps?watch=true", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            id = AuditId(response);
            var started = Assert.Single(await EventsAsync(id)); // written when the headers went out
            Assert.Equal(("ResponseStarted", "watch"), ((string?)started["stage"], (string?)started["verb"]));
            cancel.Cancel();
        }
        // The server notices the closed connection when its watch loop next writes or reads.
        await EventsAsync(id, 2);
        Assert.Equal(["ResponseStarted", "ResponseComplete"], Events(id).Select(e => (string?)e["stage"]));
    }
}
