namespace Podnet.Core.Nft;

/// <summary>
/// nft rule text split into tokens: words (addresses, numbers, keywords, "10.96.0.1", "fd00::1",
/// "80-90", "@set"), quoted strings, and the punctuation <c>{ } , :</c> when it stands alone or
/// at a word's edge. A concatenation's dot is its own word (nft writes " . ").
/// </summary>
internal static class NftTokens
{
    public static List<string> Split(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '"')
            {
                var end = text.IndexOf('"', i + 1);
                end = end < 0 ? text.Length - 1 : end;
                tokens.Add(text[i..(end + 1)]);
                i = end + 1;
                continue;
            }
            if (c is '{' or '}' or ',')
            {
                tokens.Add(c.ToString());
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or ',' or '"'))
            {
                i++;
            }
            var word = text[start..i];
            // "key:" before a space is the map separator; an IPv6 address keeps its colons.
            if (word.Length > 1 && word.EndsWith(':') && !word.EndsWith("::", StringComparison.Ordinal))
            {
                tokens.Add(word[..^1]);
                tokens.Add(":");
            }
            else
            {
                tokens.Add(word);
            }
        }
        return tokens;
    }
}
