using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Validation;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>A CRD schema's string <c>format</c>, checked with upstream's message; unknown formats ignored.</summary>
public sealed class StringFormatTests
{
    private static List<string> Causes(string format, string value)
    {
        var schema = StructuralSchema.Compile(JsonNode.Parse("""{"type": "object", "properties": {"v": {"type": "string", "format": "FORMAT"}}}""".Replace("FORMAT", format)));
        var causes = new List<FieldCause>();
        schema.Validate(new JsonObject { ["v"] = value }, "spec", causes);
        return causes.Select(c => $"{c.Field}: {c.Message}").ToList();
    }

    [Theory]
    [InlineData("ipv4", "10.0.0.1")]
    [InlineData("ipv4", "010.000.000.001")]
    [InlineData("ipv6", "fd00::1")]
    [InlineData("cidr", "10.1.2.3/8")]
    [InlineData("cidr", "fd00::/64")]
    [InlineData("mac", "0a:1b:2c:3d:4e:5f")]
    [InlineData("mac", "0a-1b-2c-3d-4e-5f")]
    [InlineData("uuid", "123e4567-e89b-12d3-a456-426614174000")]
    [InlineData("uuid4", "123e4567-e89b-42d3-a456-426614174000")]
    [InlineData("byte", "aGVsbG8=")]
    [InlineData("date", "2026-12-08")]
    [InlineData("date-time", "2026-12-08T04:10:00Z")]
    [InlineData("datetime", "2026-12-08T04:10:00.5+01:00")]
    [InlineData("hostname", "node-1.example.com")]
    [InlineData("int32", "anything")]
    [InlineData("made-up", "anything")]
    public void Valid_OrNotChecked(string format, string value) => Assert.Empty(Causes(format, value));

    [Theory]
    [InlineData("ipv4", "1")]
    [InlineData("ipv4", "256.0.0.1")]
    [InlineData("ipv4", "fd00::1")]
    [InlineData("ipv6", "10.0.0.1")]
    [InlineData("ipv6", "fe80::1%eth0")]
    [InlineData("cidr", "10.0.0.0/33")]
    [InlineData("cidr", "10.0.0.0")]
    [InlineData("mac", "0a:1b:2c:3d:4e")]
    [InlineData("mac", "0a:1b-2c:3d:4e:5f")]
    [InlineData("uuid", "123e4567e89b12d3a456426614174000")]
    [InlineData("uuid4", "123e4567-e89b-12d3-a456-426614174000")]
    [InlineData("byte", "not base64!")]
    [InlineData("date", "2026-02-30")]
    [InlineData("date-time", "2026-12-08 04:10")]
    [InlineData("hostname", "-bad.example.com")]
    public void Invalid_IsNamedAsUpstreamWordsIt(string format, string value) =>
        Assert.Equal([$"spec.v: Invalid value: \"{value}\": spec.v in body must be of type {format}: \"{value}\""], Causes(format, value));
}
