using System.Text.Json.Serialization;

namespace Podnet.Cni.Spec;

/// <summary>Source-generated JSON for the protocol types (NativeAOT has no reflection serializer).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CniResult))]
[JsonSerializable(typeof(CniError))]
[JsonSerializable(typeof(CniVersionInfo))]
[JsonSerializable(typeof(List<CniAttachment>))]
public sealed partial class CniJsonContext : JsonSerializerContext;
