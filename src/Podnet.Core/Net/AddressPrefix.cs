using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Podnet.Core.Net;

/// <summary>
/// An interface address with its prefix length, such as <c>10.244.1.5/24</c>.
/// </summary>
/// <remarks>
/// Unlike <see cref="IPNetwork"/>, the host bits are kept: this is what an interface carries
/// and what CNI results call an "address". <see cref="Network"/> gives the masked network.
/// </remarks>
public readonly record struct AddressPrefix(IPAddress Address, int PrefixLength)
{
    public AddressFamily Family => Address.AddressFamily;

    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    public int MaxPrefixLength => IsIPv4 ? 32 : 128;

    public IPNetwork Network => new(IpMath.Mask(Address, PrefixLength), PrefixLength);

    public static AddressPrefix Parse(string text) =>
        TryParse(text, out var prefix) ? prefix : throw new FormatException($"'{text}' is not an address with a prefix length (like 10.0.0.1/24)");

    public static bool TryParse([NotNullWhen(true)] string? text, out AddressPrefix prefix)
    {
        prefix = default;
        if (text is null)
        {
            return false;
        }
        var slash = text.IndexOf('/');
        if (slash <= 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address))
        {
            return false;
        }
        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return false;
        }
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (length > max || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            return false;
        }
        prefix = new AddressPrefix(address, length);
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength.ToString(CultureInfo.InvariantCulture)}";
}
