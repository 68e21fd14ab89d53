namespace Podnet.Core.Cluster;

/// <summary>A namespace as policy reads it: its name and labels (always with kubernetes.io/metadata.name).</summary>
public sealed record NamespaceInfo(string Name, IReadOnlyDictionary<string, string> Labels)
{
    public const string NameLabel = "kubernetes.io/metadata.name";
}
