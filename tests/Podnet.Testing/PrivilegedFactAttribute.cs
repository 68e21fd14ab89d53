using Xunit;

namespace Podnet.Testing;

/// <summary>
/// A test that needs to make network namespaces: it runs as root (CAP_NET_ADMIN and
/// CAP_SYS_ADMIN), or when PODNET_NETNS_TESTS=1, and is reported as skipped otherwise. CI runs
/// as root, so these run in every CI run.
/// </summary>
public sealed class PrivilegedFactAttribute : FactAttribute
{
    public PrivilegedFactAttribute()
    {
        if (!Privileges.CanMakeNamespaces)
        {
            Skip = Privileges.SkipReason;
        }
    }
}

/// <inheritdoc cref="PrivilegedFactAttribute"/>
public sealed class PrivilegedTheoryAttribute : TheoryAttribute
{
    public PrivilegedTheoryAttribute()
    {
        if (!Privileges.CanMakeNamespaces)
        {
            Skip = Privileges.SkipReason;
        }
    }
}

public static class Privileges
{
    private const int CapNetAdmin = 12;
    private const int CapSysAdmin = 21;

    public const string SkipReason = "needs CAP_NET_ADMIN and CAP_SYS_ADMIN (run as root) or PODNET_NETNS_TESTS=1";

    public static bool CanMakeNamespaces { get; } =
        Environment.GetEnvironmentVariable("PODNET_NETNS_TESTS") == "1" || (HasCapability(CapNetAdmin) && HasCapability(CapSysAdmin));

    private static bool HasCapability(int capability)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    var mask = Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
                    return (mask & (1UL << capability)) != 0;
                }
            }
        }
        catch (IOException)
        {
        }
        return false;
    }
}
