using System.Text.Json.Nodes;
using Podnet.ApiServer.Http.Proto;
using ServerProtobuf = Podnet.ApiServer.Http.Protobuf;

namespace Podnet.ApiServer.Tests.Protobuf;

/// <summary>
/// Encodings checked byte by byte against what upstream's generated code writes, worked out by
/// hand from k8s.io/api's generated.proto (field numbers), the protobuf wire format (tag =
/// number &lt;&lt; 3 | wire type; varints little-endian base 128) and apimachinery's
/// runtime.Unknown envelope; and Go-written messages (every non-pointer field written, zero or
/// not) read back as the JSON a Go client would send.
/// </summary>
public sealed class KnownEncodingTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public void ConfigMap_IsTheEnvelopeOfItsMessage()
    {
        var configMap = JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}""")!.AsObject();
        var expected = Hex(
            "6b387300" +                                  // "k8s\0"
            "0a0f 0a02 7631 1209 436f6e6669674d6170" +     // 1 typeMeta {1 "v1", 2 "ConfigMap"}
            "120d 0a03 0a0161 1206 0a016b 120176" +        // 2 raw: ConfigMap {1 metadata {1 "a"}, 2 data entry {1 "k", 2 "v"}}
            "1a00 2200");                                  // 3 contentEncoding "", 4 contentType ""
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ServerProtobuf.Encode(configMap)));
        Assert.True(JsonNode.DeepEquals(configMap, ServerProtobuf.Decode(expected)));
    }

    [Fact]
    public void ServicePort_TargetPortIsAnIntOrString_WithAllThreeFields()
    {
        var port = JsonNode.Parse("""{"name":"http","protocol":"TCP","port":80,"targetPort":8080}""")!.AsObject();
        var expected = Hex(
            "0a04 68747470" +          // 1 name "http"
            "1203 544350" +            // 2 protocol "TCP"
            "1850" +                   // 3 port 80
            "2207 0800 10903f 1a00");  // 4 targetPort {1 type 0, 2 intVal 8080, 3 strVal ""}
        var message = ProtoSchema.Instance.Messages["k8s.io.api.core.v1.ServicePort"];
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ProtoWriter.Message(message, port)));
        port["targetPort"] = "http";
        var named = ProtoReader.Message(message, ProtoWriter.Message(message, port));
        Assert.Equal("http", (string?)named["targetPort"]);
    }

    [Fact]
    public void Time_IsSecondsOnly_MicroTimeKeepsMicroseconds()
    {
        var meta = ProtoSchema.Instance.Messages["k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"];
        // 2024-01-02T03:04:05Z is 1704164645 s after the epoch: varint a5 fa cd ac 06.
        var bytes = ProtoWriter.Message(meta, new JsonObject { ["creationTimestamp"] = "2024-01-02T03:04:05Z" });
        Assert.Equal("4206 08A5FACDAC06".Replace(" ", "", StringComparison.Ordinal), Convert.ToHexString(bytes));
        var lease = ProtoSchema.Instance.Messages["k8s.io.api.coordination.v1.LeaseSpec"];
        var spec = new JsonObject { ["renewTime"] = "2024-01-02T03:04:05.250000Z" };
        // 3 acquireTime is absent; 4 renewTime (tag 0x22) {1 seconds, 2 nanos 250000000 = varint 80 e5 9a 77}.
        Assert.Equal("220B08A5FACDAC061080E59A77", Convert.ToHexString(ProtoWriter.Message(lease, spec)));
        Assert.True(JsonNode.DeepEquals(spec, ProtoReader.Message(lease, ProtoWriter.Message(lease, spec))));
    }

    [Fact]
    public void GoWrittenDeployment_ReadsAsTheJsonAGoClientSends()
    {
        // DeploymentSpec as Go writes it: replicas is a pointer (*int32) set to 0; minReadySeconds
        // (int32, omitempty) and paused (bool, omitempty) are written though zero; the strategy
        // message is written though empty.
        var spec = Hex(
            "0800" +      // 1 replicas 0
            "2200" +      // 4 strategy {}
            "2800" +      // 5 minReadySeconds 0
            "3800");      // 7 paused false
        var message = ProtoSchema.Instance.Messages["k8s.io.api.apps.v1.DeploymentSpec"];
        var json = ProtoReader.Message(message, spec);
        Assert.Equal("""{"replicas":0}""", json.ToJsonString());
    }

    [Fact]
    public void GoWrittenContainerPort_KeepsFieldsWithoutOmitempty()
    {
        // ContainerPort: name "" (omitempty), hostPort 0 (omitempty), containerPort 80 (no
        // omitempty), protocol "TCP", hostIP "" (omitempty).
        var port = Hex("0a00 1000 1850 2203 544350 2a00");
        var json = ProtoReader.Message(ProtoSchema.Instance.Messages["k8s.io.api.core.v1.ContainerPort"], port);
        Assert.Equal("""{"containerPort":80,"protocol":"TCP"}""", json.ToJsonString());
    }

    [Fact]
    public void WatchFrame_IsALengthThenAWatchEventEnvelope()
    {
        var obj = ServerProtobuf.Encode(JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}""")!.AsObject());
        var frame = ServerProtobuf.WatchFrame("v1", "ADDED", obj);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame);
        Assert.Equal(frame.Length - 4, length);
        // WatchEvent {1 "ADDED", 2 RawExtension {1 raw: the object's envelope}}.
        var expectedEvent = Convert.ToHexString(Hex("0a05 4144444544")) + "12" + (obj.Length + 2).ToString("X2") + "0A" + obj.Length.ToString("X2") + Convert.ToHexString(obj);
        var envelope = frame.AsSpan(4).ToArray();
        Assert.StartsWith("6B387300" + "0A10" + "0A027631" + "120A" + Convert.ToHexString("WatchEvent"u8), Convert.ToHexString(envelope));
        Assert.Contains(expectedEvent, Convert.ToHexString(envelope), StringComparison.Ordinal);
        var decoded = ServerProtobuf.Decode(envelope);
        Assert.Equal("ADDED", (string?)decoded["type"]);
        Assert.Equal("a", (string?)decoded["object"]!["metadata"]!["name"]);
        Assert.Equal("ConfigMap", (string?)decoded["object"]!["kind"]);
    }

    [Theory]
    [InlineData("6b387300 0a0f0a027631 1209436f6e6669674d6170 12ff", 400)]   // raw's length runs past the end
    [InlineData("6b38", 400)]                                           // no envelope
    [InlineData("6b387300 0a0c 0a027631 1206 466f6f426172", 415)]        // v1 FooBar: no message
    public void BadBodies_AreRefusedWithTheirReason(string hex, int code)
    {
        var e = Assert.Throws<Http.ApiException>(() => ServerProtobuf.Decode(Hex(hex)));
        Assert.Equal(code, e.Code);
    }

    [Fact]
    public void DeepNesting_IsBounded()
    {
        // A JSON-valued RawExtension can nest envelopes: each level is counted.
        var inner = ServerProtobuf.Encode(JsonNode.Parse("""{"apiVersion":"v1","kind":"Status","status":"x"}""")!.AsObject());
        for (var i = 0; i < ProtoReader.MaxDepth + 2; i++)
        {
            inner = ServerProtobuf.WatchFrame("v1", "ADDED", inner)[4..];
        }
        var e = Assert.Throws<Http.ApiException>(() => ServerProtobuf.Decode(inner));
        Assert.Equal(400, e.Code);
    }
}
