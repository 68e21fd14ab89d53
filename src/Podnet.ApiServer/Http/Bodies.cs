using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using YamlDotNet.Core;

namespace Podnet.ApiServer.Http;

/// <summary>Request bodies in, JSON out: JSON or YAML bodies; a body that does not parse is a 400.</summary>
internal static class Bodies
{
    /// <summary>Output as kube-apiserver writes it: quotes and angle brackets unescaped ("&lt;none&gt;", \"name\").</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = StoredDepth };

    /// <summary>
    /// How deep stored JSON is read and written: a body's <see cref="RequestLimits.MaxDepth"/>
    /// and room for what the server adds around it (managed fields mirror the object a few levels
    /// down). Whatever was accepted must be readable again, also after a restart.
    /// </summary>
    public const int StoredDepth = 2 * RequestLimits.MaxDepth;

    public static readonly JsonDocumentOptions StoredJson = new() { MaxDepth = StoredDepth };

    /// <summary>
    /// JSON bodies nest as deep as YAML ones may (<see cref="RequestLimits.MaxDepth"/>); a key twice
    /// in one object is a 400 at once (JsonObject would otherwise throw wherever the object is
    /// first read, a 500), as a key twice in YAML is.
    /// </summary>
    private static readonly JsonDocumentOptions JsonLimits = new() { MaxDepth = RequestLimits.MaxDepth, AllowDuplicateProperties = false };

    /// <summary>UTF-8 that refuses invalid bytes instead of storing U+FFFD for them (JSON bodies are checked by their reader).</summary>
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async Task<JsonNode> ReadAsync(HttpRequest request)
    {
        var cancellationToken = request.HttpContext.RequestAborted;
        var text = await ReadBoundedAsync(request, cancellationToken).ConfigureAwait(false);
        if (text.Length == 0)
        {
            throw ApiException.BadRequest("the request has no body");
        }
        var contentType = request.ContentType ?? "application/json";
        if (contentType.Contains("protobuf", StringComparison.Ordinal))
        {
            return Protobuf.Decode(text);
        }
        if (contentType.Contains("cbor", StringComparison.Ordinal))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml");
        }
        if (contentType.Contains("yaml", StringComparison.Ordinal))
        {
            string yaml;
            try
            {
                yaml = StrictUtf8.GetString(text);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw ApiException.BadRequest("the request body is not valid YAML: yaml: invalid UTF-8");
            }
            return Yaml(yaml, cancellationToken);
        }
        ReplaceLoneSurrogateEscapes(text);
        try
        {
            return JsonNode.Parse(text, documentOptions: JsonLimits) ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The body, refused with 413 once it passes <see cref="RequestLimits.MaxRequestBodyBytes"/>
    /// (as upstream's limitedReadBody); its declared length is checked before a byte is read.
    /// </summary>
    private static async Task<byte[]> ReadBoundedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > RequestLimits.MaxRequestBodyBytes)
        {
            throw TooLarge(request);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > RequestLimits.MaxRequestBodyBytes)
                {
                    throw TooLarge(request);
                }
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            throw TooLarge(request);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The 413; over HTTP/1.1 it also says Connection: close, because the rest of the body is
    /// never read and the connection cannot carry another request (a client that reused it
    /// would fail its next request; found by the fuzzer).
    /// </summary>
    private static ApiException TooLarge(HttpRequest request)
    {
        if (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol))
        {
            request.HttpContext.Response.Headers.Connection = "close";
        }
        return RequestLimits.BodyTooLarge();
    }

    /// <summary>
    /// Rewrites, in place, each <c>\uD800</c>-style escape that is half of no surrogate pair as
    /// <c>\uFFFD</c>, as Go's encoding/json decodes it. System.Text.Json parses such a string but
    /// throws wherever it is later read (a 500, found by the fuzzer), and it could not be stored.
    /// </summary>
    internal static void ReplaceLoneSurrogateEscapes(byte[] json)
    {
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (b == '"')
            {
                inString = !inString;
            }
            else if (inString && b == '\\')
            {
                if (!TryEscapedUnit(json, i, out var unit))
                {
                    i++;
                    continue;
                }
                if (char.IsHighSurrogate(unit) && TryEscapedUnit(json, i + 6, out var low) && char.IsLowSurrogate(low))
                {
                    i += 11;
                    continue;
                }
                if (char.IsSurrogate(unit))
                {
                    "fffd"u8.CopyTo(json.AsSpan(i + 2));
                }
                i += 5;
            }
        }
    }

    /// <summary>The UTF-16 unit of a \uXXXX escape at <paramref name="at"/>.</summary>
    private static bool TryEscapedUnit(byte[] json, int at, out char unit)
    {
        unit = '\0';
        if (at + 6 > json.Length || json[at] != '\\' || json[at + 1] != 'u')
        {
            return false;
        }
        var ok = ushort.TryParse(json.AsSpan(at + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var value);
        unit = (char)value;
        return ok;
    }

    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request) =>
        await ReadAsync(request).ConfigureAwait(false) as JsonObject ?? throw ApiException.BadRequest("the request body must be a JSON object");

    /// <summary>
    /// The body as the request's Accept header asks (<see cref="Negotiation"/>): protobuf when it
    /// comes first and the kind has a message, else JSON (also for errors nothing else fits).
    /// </summary>
    public static Task WriteAsync(HttpResponse response, int code, JsonNode body)
    {
        response.StatusCode = code;
        var protobuf = body is JsonObject o && Negotiation.Choose(response.HttpContext.Request.Headers.Accept.ToString(), Protobuf.CanEncode(o))?.Protobuf == true;
        response.ContentType = protobuf ? Protobuf.MediaType : "application/json";
        var bytes = protobuf ? Protobuf.Encode((JsonObject)body) : Utf8(body);
        // A known length: one write, no chunked framing.
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes).AsTask();
    }

    /// <summary>A node as UTF-8 JSON, written as <see cref="Options"/> says (no serializer: nothing to reflect on).</summary>
    public static byte[] Utf8(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer, Options);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Options.Encoder, SkipValidation = true, MaxDepth = StoredDepth };

    /// <summary>
    /// Every document of a YAML stream (JSON is YAML too) as JSON, typed as <see cref="Yaml"/>
    /// types them; empty documents are skipped. Throws <see cref="YamlException"/> on bad YAML
    /// and on a document over <see cref="YamlToJson"/>'s bounds.
    /// </summary>
    public static List<JsonNode> YamlDocuments(string text) => YamlToJson.Documents(text).OfType<JsonNode>().ToList();

    /// <summary>YAML (one document) to JSON, with plain scalars typed as YAML 1.2's core schema does.</summary>
    public static JsonNode Yaml(string text, CancellationToken cancellationToken = default)
    {
        try
        {
            // Two at most: a body of many documents is refused without building the rest.
            var documents = YamlToJson.Documents(text, cancellationToken).Take(2).ToList();
            if (documents.Count != 1)
            {
                throw ApiException.BadRequest($"the request body must hold one YAML document, not {(documents.Count == 0 ? "0" : "several")}");
            }
            return documents[0] ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (YamlBoundException e) when (e.TooLarge)
        {
            throw RequestLimits.BodyTooLarge();
        }
        catch (YamlException e)
        {
            throw ApiException.BadRequest($"the request body is not valid YAML: {e.Message}");
        }
    }
}
