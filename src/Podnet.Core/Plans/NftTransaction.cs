using System.Text;

namespace Podnet.Core.Plans;

/// <summary>
/// An nftables transaction as data: a list of nft commands ("add table …", "flush chain …",
/// "add rule …") that <c>nft -f -</c> applies atomically. Planners build it; only the applier
/// runs it. Commands are kept one per line, in the order given.
/// </summary>
public sealed class NftTransaction
{
    private readonly List<string> _commands = [];

    public IReadOnlyList<string> Commands => _commands;

    public NftTransaction Add(string command)
    {
        if (command.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("an nft command is one line", nameof(command));
        }
        _commands.Add(command);
        return this;
    }

    /// <summary>
    /// Starts from an empty <paramref name="family"/> table named <paramref name="table"/>:
    /// "add" makes it exist, "flush" empties it, so the rest of the transaction fully defines it.
    /// </summary>
    public NftTransaction ReplaceTable(string family, string table)
    {
        Add($"add table {family} {table}");
        Add($"flush table {family} {table}");
        return this;
    }

    public string ToScript()
    {
        var text = new StringBuilder();
        foreach (var command in _commands)
        {
            text.Append(command).Append('\n');
        }
        return text.ToString();
    }

    public override string ToString() => ToScript();
}
