using System.Security.Cryptography;
using System.Text;

namespace Podnet.Core.Net;

/// <summary>
/// Interface and namespace-safe names. The kernel allows 15 bytes for an interface name
/// (IFNAMSIZ 16 with the terminating NUL); names built from user input are derived, never cut.
/// </summary>
public static class LinkNames
{
    public const int MaxLength = 15;

    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>
    /// <paramref name="prefix"/> followed by a hash of <paramref name="key"/> that fills the name up to
    /// <paramref name="length"/> characters (at most 15): stable for a key, and unlikely to
    /// collide (5 bits per character of hash; 8 characters give 40 bits).
    /// </summary>
    public static string Derive(string prefix, string key, int length = MaxLength)
    {
        if (length > MaxLength || prefix.Length >= length)
        {
            throw new ArgumentException($"prefix '{prefix}' leaves no room for a hash within {length} characters");
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var chars = new char[length - prefix.Length];
        ulong bits = BitConverter.ToUInt64(hash, 0);
        ulong more = BitConverter.ToUInt64(hash, 8);
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Base32[(int)(bits & 31)];
            bits = (bits >> 5) | ((more & 31) << 59);
            more >>= 5;
        }
        return prefix + new string(chars);
    }

    /// <summary>True for a name the kernel accepts for an interface: 1–15 bytes, no '/', ':', whitespace, not "." or "..".</summary>
    public static bool IsValid(string name)
    {
        if (name.Length is 0 or > MaxLength || name is "." or "..")
        {
            return false;
        }
        foreach (var c in name)
        {
            if (c is '/' or ':' || char.IsWhiteSpace(c) || c > 0x7e || c < 0x21)
            {
                return false;
            }
        }
        return true;
    }
}
