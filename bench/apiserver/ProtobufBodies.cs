using Google.Protobuf;

namespace Podnet.Bench.ApiServer;

/// <summary>
/// The benchmark's ConfigMaps in Kubernetes' protobuf encoding, written here with
/// Google.Protobuf's CodedOutputStream and the field numbers of k8s.io/api (not with the
/// server's codec, which the load should not share), and the one thing a watcher reads back
/// from a protobuf watch frame: the event's type and the object's name.
/// </summary>
internal static class ProtobufBodies
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    /// <summary>"k8s\0" + runtime.Unknown {1 typeMeta {1 "v1", 2 "ConfigMap"}, 2 raw ConfigMap {1 metadata {1 name, 11 labels}, 2 data}}.</summary>
    public static byte[] ConfigMap(string name, IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> data)
    {
        var metadata = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString(name);
            foreach (var (k, v) in labels)
            {
                Bytes(o, 11, Entry(k, v));
            }
        });
        var configMap = Message(o =>
        {
            Bytes(o, 1, metadata);
            foreach (var (k, v) in data)
            {
                Bytes(o, 2, Entry(k, v));
            }
        });
        var typeMeta = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("v1");
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString("ConfigMap");
        });
        var unknown = Message(o =>
        {
            Bytes(o, 1, typeMeta);
            Bytes(o, 2, configMap);
        });
        return [.. "k8s\0"u8, .. unknown];
    }

    /// <summary>(type, name) of one watch frame's WatchEvent envelope.</summary>
    public static (string Type, string Name) Event(byte[] envelope)
    {
        var watchEvent = Field(envelope.AsSpan(4).ToArray(), 2);
        var type = System.Text.Encoding.UTF8.GetString(Field(watchEvent, 1));
        var obj = Field(Field(watchEvent, 2), 1);
        var metadata = Field(Field(obj.AsSpan(4).ToArray(), 2), 1);
        return (type, System.Text.Encoding.UTF8.GetString(Field(metadata, 1)));
    }

    /// <summary>The first length-delimited field <paramref name="number"/> of a message.</summary>
    private static byte[] Field(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                return input.ReadBytes().ToByteArray();
            }
            input.SkipLastField();
        }
        return [];
    }

    private static byte[] Entry(string key, string value) => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteString(key);
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    });

    private static void Bytes(CodedOutputStream output, int number, byte[] bytes)
    {
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }
}
