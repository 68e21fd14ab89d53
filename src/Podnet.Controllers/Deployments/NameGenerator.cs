namespace Podnet.Controllers.Deployments;

/// <summary>
/// generateName as the API server does it: the prefix cut to 58 characters, then five random
/// characters of <see cref="PodTemplateHash.Alphabet"/>, so names stay within 63.
/// </summary>
public static class NameGenerator
{
    public const int RandomLength = 5;
    public const int MaxNameLength = 63;

    public static string Generate(string prefix, Random random)
    {
        var cut = prefix.Length > MaxNameLength - RandomLength ? prefix[..(MaxNameLength - RandomLength)] : prefix;
        return cut + RandomSuffix(random);
    }

    public static string RandomSuffix(Random random) =>
        string.Create(RandomLength, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = PodTemplateHash.Alphabet[r.Next(PodTemplateHash.Alphabet.Length)];
            }
        });
}
