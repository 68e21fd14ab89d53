namespace Podnet.ApiServer.Registry;

/// <summary>One served resource: where it lives in the URL space and what it can do.</summary>
internal sealed record ResourceInfo(
    string Group,
    string Version,
    string Plural,
    string Kind,
    bool Namespaced,
    string[] ShortNames,
    string[] Subresources,
    string[] Categories)
{
    /// <summary>"v1" for the core group, else "group/version", as in apiVersion.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Storage key: the plural, qualified by the group when it has one.</summary>
    public string Key => Group.Length == 0 ? Plural : $"{Group}/{Plural}";

    public string Singular => Kind.ToLowerInvariant();

    public string ListKind => Kind + "List";

    /// <summary>The name used in kube-apiserver's messages: "pods", "deployments.apps".</summary>
    public string QualifiedPlural => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public bool HasSubresource(string name) => Array.IndexOf(Subresources, name) >= 0;
}
