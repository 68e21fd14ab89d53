namespace Podnet.Core.Nft;

/// <summary>
/// Applies nftables transactions: the kernel in production (Podnet.Kernel's NftRunner, one
/// <c>nft -f</c> per transaction), an in-memory <see cref="NftState"/> in tests. Either the whole
/// transaction takes effect or none of it, and a failure throws with the reason.
/// </summary>
public interface INftRunner
{
    void Apply(NftTransaction transaction);
}
