namespace Podnet.Cni.Plan;

/// <summary>
/// Short names derived from a key (host veth, nft table). FNV-1a rather than SHA-256 on
/// purpose: .NET's SHA-256 loads OpenSSL, which costs milliseconds on every plugin start, and
/// these names need stability and spread, not collision resistance against an adversary.
/// </summary>
internal static class StableName
{
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary><paramref name="prefix"/> plus <paramref name="hashChars"/> base32 characters (5 bits each, at most 12) of the key's hash.</summary>
    public static string Derive(string prefix, string key, int hashChars)
    {
        if (hashChars is < 1 or > 12)
        {
            throw new ArgumentOutOfRangeException(nameof(hashChars), hashChars, "1 to 12 characters of a 64-bit hash");
        }
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        var chars = new char[hashChars];
        for (var i = 0; i < hashChars; i++)
        {
            chars[i] = Base32[(int)(hash & 31)];
            hash >>= 5;
        }
        return prefix + new string(chars);
    }
}
