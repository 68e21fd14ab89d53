namespace Podnet.Kernel;

/// <summary>
/// Per-namespace sysctls. /proc/sys/net resolves against the namespace of the thread that
/// opens the file, so each access runs inside the namespace (see <see cref="Netns.Run{T}"/>).
/// </summary>
public static class Sysctl
{
    /// <summary>Reads a sysctl such as <c>net.ipv4.ip_forward</c>.</summary>
    public static string Get(Netns netns, string key) =>
        netns.Run(() => File.ReadAllText(PathOf(key)).Trim());

    public static void Set(Netns netns, string key, string value) =>
        netns.Run(() => Write(key, value));

    /// <summary>Sets several sysctls in one visit to the namespace.</summary>
    public static void Set(Netns netns, IEnumerable<KeyValuePair<string, string>> values) =>
        netns.Run(() =>
        {
            foreach (var (key, value) in values)
            {
                Write(key, value);
            }
        });

    /// <summary>
    /// Reads a sysctl of the calling thread's namespace, without a detour through a fresh thread:
    /// for a one-shot process that never left its namespace (a CNI plugin).
    /// </summary>
    public static string GetInCurrentNamespace(string key) => File.ReadAllText(PathOf(key)).Trim();

    /// <inheritdoc cref="GetInCurrentNamespace"/>
    public static void SetInCurrentNamespace(string key, string value) => Write(key, value);

    private static void Write(string key, string value)
    {
        try
        {
            File.WriteAllText(PathOf(key), value);
        }
        catch (IOException e)
        {
            throw new IOException($"set sysctl {key}={value}: {e.Message}", e);
        }
    }

    private static string PathOf(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/') || key.Length == 0)
        {
            throw new ArgumentException($"'{key}' is not a sysctl key");
        }
        // Interface names may contain dots (net.ipv4.conf.eth0.1.forwarding): iproute2 and sysctl(8)
        // accept '/' as the separator for such keys; we accept both and map '.' to '/'.
        return "/proc/sys/" + (key.Contains('/') ? key : key.Replace('.', '/'));
    }
}
