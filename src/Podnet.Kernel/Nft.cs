using Podnet.Core.Nft;

namespace Podnet.Kernel;

/// <summary>nft failed; the message carries nft's own error text, which points at the bad line.</summary>
public sealed class NftException(string message, string script) : Exception(message)
{
    public string Script { get; } = script;
}

/// <summary>
/// Applies nftables transactions with <c>nft -f -</c> inside a namespace: the whole script is
/// one atomic transaction, so either all of it takes effect or none.
/// </summary>
/// <remarks>
/// nft 1.0.6 (Debian 12) accepts the named priority "dstnat" only on prerouting: planners must
/// write numeric priorities (filter -110, nat -100, post-dnat filter -90, srcnat 100).
/// </remarks>
public static class Nft
{
    public static string Binary { get; set; } = "nft";

    /// <summary>Runs <paramref name="script"/> as one transaction, or throws with nft's error text.</summary>
    public static void Apply(Netns netns, string script)
    {
        var result = ProcessRunner.Run(netns, Binary, ["-f", "-"], script);
        if (!result.Success)
        {
            throw new NftException($"nft -f in {netns.Path} failed (exit {result.ExitCode}): {result.StandardError.Trim()}", script);
        }
    }

    /// <summary>Runs <paramref name="transaction"/> atomically, or throws with nft's error text.</summary>
    public static void Apply(Netns netns, NftTransaction transaction) => Apply(netns, transaction.ToScript());

    /// <summary>Checks <paramref name="script"/> without applying it (<c>nft -c</c>).</summary>
    public static string? Check(Netns netns, string script)
    {
        var result = ProcessRunner.Run(netns, Binary, ["-c", "-f", "-"], script);
        return result.Success ? null : result.StandardError.Trim();
    }

    /// <summary>The ruleset in nft's JSON form (<c>nft -j list ruleset</c>), or of one table.</summary>
    public static string ListJson(Netns netns, string? family = null, string? table = null) =>
        List(netns, table is null ? ["-j", "list", "ruleset"] : ["-j", "list", "table", family ?? "inet", table]);

    /// <summary>The ruleset as nft prints it.</summary>
    public static string ListText(Netns netns, string? family = null, string? table = null) =>
        List(netns, table is null ? ["list", "ruleset"] : ["list", "table", family ?? "inet", table]);

    private static string List(Netns netns, string[] arguments)
    {
        var result = ProcessRunner.Run(netns, Binary, arguments);
        if (!result.Success)
        {
            throw new NftException($"nft {string.Join(' ', arguments)} in {netns.Path} failed: {result.StandardError.Trim()}", "");
        }
        return result.StandardOutput;
    }
}

/// <summary>The kernel's <see cref="INftRunner"/>: each transaction is one <c>nft -f -</c> in <paramref name="netns"/>.</summary>
public sealed class NftRunner(Netns netns) : INftRunner
{
    public void Apply(NftTransaction transaction)
    {
        if (!transaction.IsEmpty)
        {
            Nft.Apply(netns, transaction);
        }
    }
}
