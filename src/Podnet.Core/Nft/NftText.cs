using System.Globalization;
using System.Text;

namespace Podnet.Core.Nft;

/// <summary>
/// The one place typed nft commands become nft's syntax: the lines <c>nft -f</c> reads, written
/// as <c>add</c>/<c>flush</c>/<c>delete</c> commands (never nested blocks), which nft accepts in
/// any amount and reports line by line when one is wrong.
/// </summary>
public static class NftText
{
    public static string Render(NftCommand command)
    {
        var text = new StringBuilder();
        Render(command, text);
        return text.ToString();
    }

    public static void Render(NftCommand command, StringBuilder text)
    {
        var verb = command.Verb switch
        {
            NftVerb.Add => "add",
            NftVerb.Flush => "flush",
            _ => "delete",
        };
        var table = command.Table;
        CheckName(table.Name);
        switch (command.Object)
        {
            case null:
                text.Append(verb).Append(" table ").Append(Family(table.Family)).Append(' ').Append(table.Name);
                break;
            case NftChain chain:
                CheckName(chain.Name);
                text.Append(verb).Append(" chain ").Append(Family(table.Family)).Append(' ').Append(table.Name).Append(' ').Append(chain.Name);
                if (command.Verb == NftVerb.Add)
                {
                    ChainBody(chain, text);
                }
                break;
            case NftSet set:
                CheckName(set.Name);
                text.Append(verb).Append(set.IsMap ? " map " : " set ").Append(Family(table.Family)).Append(' ').Append(table.Name).Append(' ').Append(set.Name);
                if (command.Verb == NftVerb.Add)
                {
                    SetBody(set, text);
                }
                break;
            case NftRule rule:
                CheckName(rule.Chain);
                CheckLine(rule.Text);
                text.Append("add rule ").Append(Family(table.Family)).Append(' ').Append(table.Name).Append(' ').Append(rule.Chain).Append(' ').Append(rule.Text);
                if (rule.Comment is not null)
                {
                    text.Append(" comment ").Append(Quote(rule.Comment));
                }
                break;
            case NftElement element:
                CheckName(element.Set);
                text.Append(verb).Append(" element ").Append(Family(table.Family)).Append(' ').Append(table.Name).Append(' ').Append(element.Set).Append(" { ");
                Element(element, command.Verb == NftVerb.Add, text);
                text.Append(" }");
                break;
            default:
                throw new ArgumentException($"not an nft object: {command.Object.GetType().Name}", nameof(command));
        }
    }

    /// <summary>One "add element" command for several elements of one set or map.</summary>
    public static void RenderElements(NftTable table, string set, IEnumerable<NftElement> elements, StringBuilder text)
    {
        CheckName(table.Name);
        CheckName(set);
        text.Append("add element ").Append(Family(table.Family)).Append(' ').Append(table.Name).Append(' ').Append(set).Append(" { ");
        var first = true;
        foreach (var element in elements)
        {
            if (!first)
            {
                text.Append(", ");
            }
            first = false;
            Element(element, withValue: true, text);
        }
        text.Append(" }");
    }

    public static string Family(NftFamily family) => family switch
    {
        NftFamily.Ip => "ip",
        NftFamily.Ip6 => "ip6",
        NftFamily.Inet => "inet",
        NftFamily.Bridge => "bridge",
        NftFamily.Arp => "arp",
        _ => "netdev",
    };

    public static string Hook(NftHook hook) => hook.ToString().ToLowerInvariant();

    public static string ChainType(NftChainType type) => type.ToString().ToLowerInvariant();

    /// <summary>A duration as nft reads it: whole seconds ("10800s").</summary>
    public static string Duration(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";

    /// <summary>The set flags in the order nft prints them ("dynamic,timeout").</summary>
    public static string Flags(NftSetFlags flags)
    {
        var names = new List<string>(4);
        if (flags.HasFlag(NftSetFlags.Constant))
        {
            names.Add("constant");
        }
        if (flags.HasFlag(NftSetFlags.Dynamic))
        {
            names.Add("dynamic");
        }
        if (flags.HasFlag(NftSetFlags.Interval))
        {
            names.Add("interval");
        }
        if (flags.HasFlag(NftSetFlags.Timeout))
        {
            names.Add("timeout");
        }
        return string.Join(',', names);
    }

    /// <summary>A string in nft's double quotes; nft has no escape for a quote, so none may be in it.</summary>
    public static string Quote(string value)
    {
        CheckLine(value);
        if (value.Contains('"', StringComparison.Ordinal) || value.Length > 128)
        {
            throw new ArgumentException($"an nft comment is at most 128 characters without quotes: {value}", nameof(value));
        }
        return "\"" + value + "\"";
    }

    private static void ChainBody(NftChain chain, StringBuilder text)
    {
        if (chain.Hook is not { } hook)
        {
            if (chain.Comment is not null)
            {
                text.Append(" { comment ").Append(Quote(chain.Comment)).Append(" ; }");
            }
            return;
        }
        text.Append(" { type ").Append(ChainType(hook.Type)).Append(" hook ").Append(Hook(hook.Hook))
            .Append(" priority ").Append(hook.Priority.ToString(CultureInfo.InvariantCulture)).Append(" ;");
        if (hook.DropPolicy)
        {
            text.Append(" policy drop ;");
        }
        if (chain.Comment is not null)
        {
            text.Append(" comment ").Append(Quote(chain.Comment)).Append(" ;");
        }
        text.Append(" }");
    }

    private static void SetBody(NftSet set, StringBuilder text)
    {
        CheckLine(set.Type);
        text.Append(set.TypeOf ? " { typeof " : " { type ").Append(set.Type);
        if (set.Value is not null)
        {
            CheckLine(set.Value);
            text.Append(" : ").Append(set.Value);
        }
        text.Append(" ;");
        if (set.Flags != NftSetFlags.None)
        {
            text.Append(" flags ").Append(Flags(set.Flags)).Append(" ;");
        }
        if (set.Timeout is { } timeout)
        {
            text.Append(" timeout ").Append(Duration(timeout)).Append(" ;");
        }
        if (set.AutoMerge)
        {
            text.Append(" auto-merge ;");
        }
        if (set.Comment is not null)
        {
            text.Append(" comment ").Append(Quote(set.Comment)).Append(" ;");
        }
        text.Append(" }");
    }

    private static void Element(NftElement element, bool withValue, StringBuilder text)
    {
        CheckLine(element.Key);
        text.Append(element.Key);
        if (!withValue)
        {
            return;
        }
        if (element.Timeout is { } timeout)
        {
            text.Append(" timeout ").Append(Duration(timeout));
        }
        if (element.Comment is not null)
        {
            text.Append(" comment ").Append(Quote(element.Comment));
        }
        if (element.Value is not null)
        {
            CheckLine(element.Value);
            text.Append(" : ").Append(element.Value);
        }
    }

    /// <summary>
    /// Table, chain and set names: nft identifiers (letters, digits, and _ - . / after the first
    /// letter), at most 256 characters as the kernel's NFT_NAME_MAXLEN allows.
    /// </summary>
    public static void CheckName(string name)
    {
        if (!IsName(name))
        {
            throw new ArgumentException($"not an nft name: \"{name}\"", nameof(name));
        }
    }

    public static bool IsName(string name)
    {
        if (name.Length is 0 or > 256 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.' or '/'))
            {
                return false;
            }
        }
        return true;
    }

    private static void CheckLine(string value)
    {
        if (value.AsSpan().IndexOfAny('\n', '\r', ';') >= 0)
        {
            throw new ArgumentException($"nft text is one command without separators: {value}", nameof(value));
        }
    }
}
