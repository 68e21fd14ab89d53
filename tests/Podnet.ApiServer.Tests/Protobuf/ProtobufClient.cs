using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ServerProtobuf = Podnet.ApiServer.Http.Protobuf;

namespace Podnet.ApiServer.Tests.Protobuf;

/// <summary>
/// Speaks to the server as client-go configured for protobuf does: bodies in
/// application/vnd.kubernetes.protobuf, Accept "application/vnd.kubernetes.protobuf,
/// application/json" (or protobuf alone), patches in JSON with a protobuf Accept, DeleteOptions
/// in protobuf, watches in the length-prefixed framing. No Go toolchain runs here, so the
/// encoder is the server's own; its bytes are pinned independently in KnownEncodingTests.
/// </summary>
internal sealed class ProtobufClient(HttpClient http)
{
    public const string Accept = "application/vnd.kubernetes.protobuf, application/json";

    public sealed record Answer(int Code, string ContentType, JsonObject Body);

    public Task<Answer> SendAsync(HttpMethod method, string path, JsonObject? body = null, string? contentType = null, string accept = Accept)
    {
        HttpContent? content = null;
        if (body is not null)
        {
            content = contentType is null || contentType == ServerProtobuf.MediaType
                ? new ByteArrayContent(ServerProtobuf.Encode(body))
                : new StringContent(body.ToJsonString(), Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? ServerProtobuf.MediaType);
        }
        return SendAsync(method, path, content, accept);
    }

    private async Task<Answer> SendAsync(HttpMethod method, string path, HttpContent? content, string accept)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        // client-go names itself: the field manager of its writes.
        request.Headers.UserAgent.ParseAdd("protobuf-test/v0.0.0");
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var type = response.Content.Headers.ContentType?.ToString() ?? "";
        var body = type == ServerProtobuf.MediaType ? ServerProtobuf.Decode(bytes) : JsonNode.Parse(bytes)!.AsObject();
        return new Answer((int)response.StatusCode, type, body);
    }

    /// <summary>A protobuf watch: its events as they arrive, each (type, object).</summary>
    public async Task<Watch> WatchAsync(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", "application/vnd.kubernetes.protobuf, application/json");
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new Watch(response, await response.Content.ReadAsStreamAsync());
    }

    internal sealed class Watch(HttpResponseMessage response, Stream stream) : IAsyncDisposable
    {
        /// <summary>As sent (HttpClient's parsed form would add a space after the ';').</summary>
        public string ContentType => response.Content.Headers.NonValidated["Content-Type"].ToString();

        /// <summary>The next event, within the time given (a loaded machine is slow; the caller waits for what it expects).</summary>
        public async Task<(string Type, JsonObject Object)> NextAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var length = new byte[4];
            await stream.ReadExactlyAsync(length, timeout.Token);
            var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(length)];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            var e = ServerProtobuf.Decode(frame);
            Assert.Equal("WatchEvent", (string?)e["kind"]);
            return ((string)e["type"]!, e["object"]!.AsObject());
        }

        /// <summary>Events until one of <paramref name="type"/> that <paramref name="match"/> accepts.</summary>
        public async Task<JsonObject> WaitForAsync(string type, Func<JsonObject, bool> match, TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (true)
            {
                var left = deadline - DateTime.UtcNow;
                Assert.True(left > TimeSpan.Zero, $"no {type} event within {within}");
                var (t, obj) = await NextAsync(left);
                if (t == type && match(obj))
                {
                    return obj;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            response.Dispose();
        }
    }
}
