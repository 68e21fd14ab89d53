using System.Text;

namespace Podnet.Testing;

/// <summary>
/// Mutations of a text input for the fuzz runs (CNI configurations, lab files, manifests): bits
/// flipped, spans cut, tokens put in, values of the format swapped for tokens of the wrong kind,
/// nesting near and far past any limit, huge strings, a span repeated, a splice with another
/// corpus entry. Everything comes from the caller's <see cref="Random"/>, so a seed replays.
/// </summary>
/// <param name="tokens">What matters to the format (JSON's brackets, YAML's anchors…), put in at random places.</param>
/// <param name="values">Values the corpus holds that are worth replacing by a token.</param>
public sealed class TextMutator(IReadOnlyList<string> tokens, IReadOnlyList<string> values)
{
    public string Mutate(Random random, string text, IReadOnlyList<string> corpus)
    {
        var builder = new StringBuilder(text);
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(builder.Length + 1);
            switch (random.Next(100))
            {
                case < 15 when builder.Length > 0:
                    var i = Math.Min(at, builder.Length - 1);
                    builder[i] = (char)(builder[i] ^ (1 << random.Next(7)));
                    break;
                case < 30 when builder.Length > 0:
                    var from = Math.Min(at, builder.Length - 1);
                    builder.Remove(from, Math.Min(random.Next(1, 30), builder.Length - from));
                    break;
                case < 55:
                    builder.Insert(at, tokens[random.Next(tokens.Count)]);
                    break;
                case < 70:
                    builder.Replace(values[random.Next(values.Count)], tokens[random.Next(tokens.Count)]);
                    break;
                case < 78:
                    var depth = random.Next(10) == 0 ? random.Next(10_000, 200_000) : random.Next(50, 200);
                    builder.Insert(at, string.Concat(Enumerable.Repeat("[", depth)) + "1" + string.Concat(Enumerable.Repeat("]", random.Next(depth + 1))));
                    break;
                case < 84:
                    builder.Insert(at, "\"" + new string('x', random.Next(1_000, 2_000_000)) + "\"");
                    break;
                case < 92 when builder.Length > 0:
                    var start = random.Next(builder.Length);
                    builder.Insert(at, builder.ToString(start, Math.Min(random.Next(1, 120), builder.Length - start)));
                    break;
                default:
                    var other = corpus[random.Next(corpus.Count)];
                    builder.Remove(at, builder.Length - at);
                    builder.Append(other.AsSpan(random.Next(other.Length + 1)));
                    break;
            }
        }
        return builder.ToString();
    }
}
