using Podnet.Core.Nft;

namespace Podnet.Testing;

/// <summary>
/// A fake <see cref="INftRunner"/> (for tests that have no kernel to program, or that check a
/// plan's meaning): keeps the state transactions leave in an <see cref="NftState"/>, with the
/// kernel's all-or-nothing and error rules, records each transaction, and can be told to fail.
/// </summary>
public sealed class FakeNftRunner : INftRunner
{
    private readonly List<NftTransaction> _applied = [];

    public NftState State { get; } = new();

    /// <summary>Every transaction applied successfully, in order.</summary>
    public IReadOnlyList<NftTransaction> Applied => _applied;

    /// <summary>The next this many transactions fail (as a kernel error would), leaving the state as it was.</summary>
    public int FailNext { get; set; }

    public void Apply(NftTransaction transaction)
    {
        if (FailNext > 0)
        {
            FailNext--;
            throw new InvalidOperationException("injected nft failure");
        }
        State.Apply(transaction);
        _applied.Add(transaction);
    }

    public string Dump() => State.Dump();

    /// <summary>A tracer over the current state, for a node with <paramref name="localAddresses"/>.</summary>
    public NftTracer Tracer(params string[] localAddresses) => new(State, localAddresses.Select(System.Net.IPAddress.Parse));
}
