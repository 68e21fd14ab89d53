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

    public string Singular { get; init; } = Kind.ToLowerInvariant();

    public string ListKind { get; init; } = Kind + "List";

    /// <summary>The custom resource this version serves; null for a built-in kind.</summary>
    public CustomResource? Custom { get; set; }

    /// <summary>The name used in kube-apiserver's messages: "pods", "deployments.apps".</summary>
    public string QualifiedPlural => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public bool HasSubresource(string name) => Array.IndexOf(Subresources, name) >= 0;

    /// <summary>What discovery says of one of <see cref="Subresources"/>: the kind it answers with and its verbs, as kube-apiserver lists them.</summary>
    public SubresourceInfo DescribeSubresource(string sub) => sub switch
    {
        "binding" => new(sub, "", "v1", "Binding", ["create"]),
        // kubectl drain finds the Eviction's group-version here (CheckEvictionSupport).
        "eviction" => new(sub, "policy", "v1", "Eviction", ["create"]),
        "scale" => new(sub, "autoscaling", "v1", "Scale", ["get", "patch", "update"]),
        "finalize" => new(sub, Group, Version, Kind, ["update"]),
        // TokenRequest, served by Auth/AccessGate before any resource handler.
        "token" => new(sub, "authentication.k8s.io", "v1", "TokenRequest", ["create"]),
        // Served by the pod's node (ApiHandler.Streaming), through the kubelet API.
        "exec" => new(sub, "", "v1", "PodExecOptions", ["create", "get"]),
        "attach" => new(sub, "", "v1", "PodAttachOptions", ["create", "get"]),
        "portforward" => new(sub, "", "v1", "PodPortForwardOptions", ["create", "get"]),
        "log" => new(sub, "", "v1", "Pod", ["get"]),
        // kube-apiserver also lists create, delete, patch and update: Podnet relays only GET to a kubelet.
        "proxy" => new(sub, "", "v1", "NodeProxyOptions", ["get"]),
        _ => new(sub, Group, Version, Kind, ["get", "patch", "update"]),
    };
}

/// <summary>One subresource as discovery describes it: the kind of its requests and answers, and its verbs.</summary>
internal sealed record SubresourceInfo(string Name, string Group, string Version, string Kind, string[] Verbs);
