namespace Podnet.Cni.Spec;

/// <summary>
/// The spec versions Podnet speaks and how their result shapes differ.
/// </summary>
/// <remarks>
/// 0.3.0, 0.3.1 and 0.4.0 share one result shape (ips carry "version"); 1.0.0 drops
/// "version"; 1.1.0 adds interface mtu/socketPath/pciID and route mtu/advmss/priority/table/scope.
/// CHECK exists from 0.4.0 on, GC and STATUS from 1.1.0 on. 0.1.0 and 0.2.0 (ip4/ip6 results)
/// are refused with code 1.
/// </remarks>
public static class CniVersion
{
    public const string Current = "1.1.0";

    public static IReadOnlyList<string> Supported { get; } = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public static bool IsSupported(string? version) => version is not null && Supported.Contains(version);

    /// <summary>Compares two "a.b.c" versions; unparsable parts count as 0.</summary>
    public static int Compare(string a, string b)
    {
        var x = Parts(a);
        var y = Parts(b);
        for (var i = 0; i < 3; i++)
        {
            if (x[i] != y[i])
            {
                return x[i].CompareTo(y[i]);
            }
        }
        return 0;
    }

    public static bool AtLeast(string version, string minimum) => Compare(version, minimum) >= 0;

    /// <summary>Throws code 1 unless <paramref name="version"/> is one Podnet speaks.</summary>
    public static string Require(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion,
                $"network config has no cniVersion (that means 0.1.0); supported: {string.Join(", ", Supported)}");
        }
        if (!IsSupported(version))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion,
                $"cniVersion {version} is not supported; supported: {string.Join(", ", Supported)}");
        }
        return version;
    }

    /// <summary>The highest of <paramref name="candidates"/> that Podnet speaks (the runtime's choice per spec section 1).</summary>
    public static string? Highest(IEnumerable<string?> candidates) =>
        candidates.Where(IsSupported).Select(v => v!).OrderByDescending(v => v, Comparer<string>.Create(Compare)).FirstOrDefault();

    private static int[] Parts(string version)
    {
        var result = new int[3];
        var parts = version.Split('.');
        for (var i = 0; i < Math.Min(3, parts.Length); i++)
        {
            _ = int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out result[i]);
        }
        return result;
    }
}
