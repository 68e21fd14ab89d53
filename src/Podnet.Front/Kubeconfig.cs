using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.Cli.Objects;

namespace Podnet.Front;

/// <summary>
/// A kubeconfig's current context as an <see cref="ApiEndpoint"/>, read through the API server's
/// YAML reader (no KubernetesClient model, no reflection). Only what Podnet's and kubeadm-style
/// kubeconfigs use: a server, its CA (data or file), insecure-skip-tls-verify, and a user with a
/// token or a client certificate (data or files; relative paths from the kubeconfig's folder, as
/// KubernetesClient resolves them). Anything else (exec plugins, auth providers, token files,
/// basic auth, a missing context) returns null, and the full CLI takes the command.
/// </summary>
internal static class Kubeconfig
{
    /// <summary>Kubeconfigs are small; a bigger file is left to the full CLI.</summary>
    private const long MaxBytes = 1 << 20;

    private static readonly string[] UserFields = ["token", "client-certificate-data", "client-key-data", "client-certificate", "client-key"];

    private static readonly string[] ClusterFields = ["server", "certificate-authority-data", "certificate-authority", "insecure-skip-tls-verify"];

    /// <summary>The server address of the current context, or null.</summary>
    public static string? Server(string path) => Guarded(() => Context(path) is var (cluster, _) ? (string?)cluster["server"] : null);

    /// <summary>The current context's endpoint, or null when the full CLI should read this kubeconfig (it says what is wrong with a broken one).</summary>
    public static ApiEndpoint? Load(string path) => Guarded(() => Read(path));

    private static T? Guarded<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Security.Cryptography.CryptographicException
            or ArgumentException or InvalidOperationException or YamlDotNet.Core.YamlException or ApiException)
        {
            return null;
        }
    }

    private static ApiEndpoint? Read(string path)
    {
        if (Context(path) is not var (cluster, user))
        {
            return null;
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Text(JsonObject o, string data, string file) =>
            o[data] is JsonValue d && d.TryGetValue<string>(out var b64) && b64.Length > 0 ? Encoding.UTF8.GetString(Convert.FromBase64String(b64))
            : o[file] is JsonValue f && f.TryGetValue<string>(out var name) && name.Length > 0 ? File.ReadAllText(Path.Combine(directory, name))
            : null;
        if (cluster["server"] is not JsonValue server || !server.TryGetValue<string>(out var host) || host.Length == 0)
        {
            return null;
        }
        var skip = cluster["insecure-skip-tls-verify"] is JsonValue s && s.TryGetValue<bool>(out var flag) && flag;
        X509Certificate2Collection? ca = null;
        if (Text(cluster, "certificate-authority-data", "certificate-authority") is { } pem)
        {
            ca = [];
            ca.ImportFromPem(pem);
        }
        var certificate = user is null ? null : Text(user, "client-certificate-data", "client-certificate");
        var key = user is null ? null : Text(user, "client-key-data", "client-key");
        var client = certificate is { Length: > 0 } && key is { Length: > 0 } ? X509Certificate2.CreateFromPem(certificate, key) : null;
        var token = user?["token"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
        return new ApiEndpoint(host, ca, client, skip, token);
    }

    /// <summary>The current context's cluster and user (null when it has none), or null when the front should not read this file.</summary>
    private static (JsonObject Cluster, JsonObject? User)? Context(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists || file.Length > MaxBytes)
        {
            return null;
        }
        if (Bodies.YamlDocuments(File.ReadAllText(path)) is not [JsonObject config]
            || config["current-context"] is not JsonValue current || !current.TryGetValue<string>(out var contextName)
            || Named(config["contexts"], contextName)?["context"] is not JsonObject context
            || context["cluster"] is not JsonValue c || !c.TryGetValue<string>(out var clusterName)
            || Named(config["clusters"], clusterName)?["cluster"] is not JsonObject cluster
            || cluster.Any(p => !ClusterFields.Contains(p.Key)))
        {
            return null;
        }
        JsonObject? user = null;
        if (context["user"] is JsonValue u && u.TryGetValue<string>(out var userName))
        {
            user = Named(config["users"], userName)?["user"] as JsonObject;
            if (user is null || user.Any(p => !UserFields.Contains(p.Key)))
            {
                return null;
            }
        }
        return (cluster, user);
    }

    private static JsonObject? Named(JsonNode? list, string name) =>
        list is JsonArray items ? items.OfType<JsonObject>().FirstOrDefault(i => i["name"] is JsonValue n && n.TryGetValue<string>(out var s) && s == name) : null;
}
