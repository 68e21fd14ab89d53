using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Podnet.ApiServer.Http;

/// <summary>Request bodies in, JSON out: JSON or YAML bodies; a body that does not parse is a 400.</summary>
internal static class Bodies
{
    /// <summary>Output as kube-apiserver writes it: quotes and angle brackets unescaped ("&lt;none&gt;", \"name\").</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<JsonNode> ReadAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        var text = buffer.ToArray();
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
            return Yaml(System.Text.Encoding.UTF8.GetString(text));
        }
        try
        {
            return JsonNode.Parse(text) ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }

    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request) =>
        await ReadAsync(request).ConfigureAwait(false) as JsonObject ?? throw ApiException.BadRequest("the request body must be a JSON object");

    public static Task WriteAsync(HttpResponse response, int code, JsonNode body)
    {
        response.StatusCode = code;
        response.ContentType = "application/json";
        var bytes = Utf8(body);
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

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Options.Encoder, SkipValidation = true };

    /// <summary>
    /// Every document of a YAML stream (JSON is YAML too) as JSON, typed as <see cref="Yaml"/>
    /// types them; empty documents are skipped. Throws <see cref="YamlException"/> on bad YAML.
    /// </summary>
    public static List<JsonNode> YamlDocuments(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => Convert(d.RootNode)).OfType<JsonNode>().ToList();
    }

    /// <summary>YAML (one document) to JSON, with plain scalars typed as YAML 1.2's core schema does.</summary>
    public static JsonNode Yaml(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count != 1)
            {
                throw ApiException.BadRequest($"the request body must hold one YAML document, not {stream.Documents.Count}");
            }
            return Convert(stream.Documents[0].RootNode) ?? throw ApiException.BadRequest("the request body is null");
        }
        catch (YamlException e)
        {
            throw ApiException.BadRequest($"the request body is not valid YAML: {e.Message}");
        }
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", Convert(p.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }
        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase));
        }
        if (long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }
        if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && value.Any(char.IsDigit))
        {
            return JsonValue.Create(d);
        }
        return JsonValue.Create(value);
    }
}
