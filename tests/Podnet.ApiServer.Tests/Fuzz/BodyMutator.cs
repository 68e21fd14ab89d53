using System.Text;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>One request the fuzzer sends.</summary>
internal sealed record FuzzCase(string Method, string Path, string ContentType, byte[] Body, string Origin)
{
    public override string ToString()
    {
        var shown = Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 300));
        return $"{Method} {Path} ({ContentType}, {Body.Length} bytes from {Origin}): {shown}{(Body.Length > 300 ? "…" : "")}";
    }
}

/// <summary>
/// Turns the corpus (tests/fuzz/corpus/apiserver: RESOURCE.WHAT.json|yaml, or patch.KIND.*) into
/// requests: a corpus body, most often mutated (bytes flipped, spans cut or doubled, tokens that
/// matter to JSON and YAML put in, nesting near and far past the limit, huge strings, splices of
/// two bodies), sent as a create, a replace or a patch, a quarter of them with odd query
/// parameters (fieldValidation, dryRun, force, fieldManager). Everything comes from the one
/// <see cref="Random"/>, so a seed replays the same requests.
/// </summary>
internal sealed class BodyMutator(IReadOnlyList<(string Name, byte[] Body)> corpus)
{
    /// <summary>The fuzzed resources (the first four also take the patch bodies); widgets are a custom resource whose CRD the run makes first.</summary>
    public static readonly string[] Resources = ["configmaps", "pods", "services", "deployments", "secrets", "serviceaccounts", "widgets"];

    private static readonly string[] Tokens =
    [
        "[", "]", "{", "}", "\"", "'", ":", ",", "\n", "\n- ", "  ", "&a ", "*a", "<<: ", "? ", "!!str ", "!!binary ", "|", ">", "#", "---\n", "...\n",
        "null", "true", "1e999", "-0", "18446744073709551616", "0x", "\\u0000", "\\ud800", "\\", "\t", "%YAML 1.2\n", "@", "`",
    ];

    private static readonly byte[][] RawBytes = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [0xef, 0xbb, 0xbf]];

    private static readonly string[] OddContentTypes = ["text/plain", "application/vnd.kubernetes.protobuf", "application/cbor", "application/json; charset=latin1", ""];

    private static readonly string[] Queries =
    [
        "fieldValidation=Strict", "fieldValidation=Ignore", "fieldValidation=Warn", "fieldValidation=strict", "fieldValidation=",
        "dryRun=All", "dryRun=x", "force=true", "force=1", "pretty=true", "fieldManager=", "fieldManager=%00%ff", "fieldManager=" + new string('m', 200),
        "resourceVersion=1", "timeout=1s", "%zz=1", "a=%", "fieldManager=a&fieldManager=b",
    ];

    public FuzzCase Next(Random random, int iteration)
    {
        var fuzz = NextBody(random, iteration);
        if (random.Next(4) != 0)
        {
            return fuzz;
        }
        var query = string.Join("&", Enumerable.Range(0, random.Next(1, 4)).Select(_ => Queries[random.Next(Queries.Length)]));
        return fuzz with { Path = fuzz.Path + (fuzz.Path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query };
    }

    private FuzzCase NextBody(Random random, int iteration)
    {
        var (name, original) = corpus[random.Next(corpus.Count)];
        var parts = name.Split('.');
        var body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(original).Replace("NAME", $"f{iteration}", StringComparison.Ordinal));
        if (name.Contains("invalid-utf8", StringComparison.Ordinal))
        {
            body = original;
        }
        if (name.Contains("huge", StringComparison.Ordinal))
        {
            // HUGE: a string of its own length each time, around the name limits (63, 253),
            // the object limit (1.5 MiB) and the body limit (3 MiB).
            int[] lengths = [64, 254, 70_000, 1_000_000, 1_600_000, 3_200_000];
            var length = lengths[random.Next(lengths.Length)] + random.Next(-2, 3);
            body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("HUGE", new string((char)random.Next('a', 'z' + 1), length), StringComparison.Ordinal));
        }
        var mutations = random.Next(5);
        for (var i = 0; i < mutations; i++)
        {
            body = Mutate(random, body);
        }
        var yaml = parts[^1] == "yaml";
        var contentType = yaml ? "application/yaml" : "application/json";
        if (random.Next(10) == 0)
        {
            contentType = random.Next(2) == 0 ? (yaml ? "application/json" : "application/yaml") : OddContentTypes[random.Next(OddContentTypes.Length)];
        }
        if (parts[0] == "patch")
        {
            var resource = Resources[random.Next(4)];
            var patchType = parts[1] switch
            {
                "json-patch" => "application/json-patch+json",
                "merge" => "application/merge-patch+json",
                "strategic" => "application/strategic-merge-patch+json",
                _ => "application/apply-patch+yaml",
            };
            return new FuzzCase("PATCH", $"{Seeded(resource)}?fieldManager=fuzz", patchType, body, name);
        }
        var pick = random.Next(10);
        return pick switch
        {
            < 7 => new FuzzCase("POST", Collection(parts[0]), contentType, body, name),
            7 => new FuzzCase("PUT", Seeded(parts[0]), contentType, body, name),
            8 => new FuzzCase("PATCH", Seeded(parts[0]), "application/merge-patch+json", body, name),
            _ => new FuzzCase("PATCH", $"{Seeded(parts[0])}?fieldManager=fuzz", "application/apply-patch+yaml", body, name),
        };
    }

    public static string Collection(string resource) => resource switch
    {
        "namespaces" => "api/v1/namespaces",
        "deployments" => "apis/apps/v1/namespaces/fuzz/deployments",
        "customresourcedefinitions" => "apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "widgets" => "apis/example.com/v1/namespaces/fuzz/widgets",
        _ => $"api/v1/namespaces/fuzz/{resource}",
    };

    /// <summary>The object of each resource made before the run, which replaces and patches aim at.</summary>
    public static string Seeded(string resource) => resource == "namespaces" ? "api/v1/namespaces/fuzz" : $"{Collection(resource)}/seed";

    private byte[] Mutate(Random random, byte[] body)
    {
        var list = new List<byte>(body);
        var at = random.Next(list.Count + 1);
        switch (random.Next(100))
        {
            case < 15 when list.Count > 0:
                list[Math.Min(at, list.Count - 1)] ^= (byte)(1 << random.Next(8));
                break;
            case < 30 when list.Count > 0:
                list.RemoveRange(Math.Min(at, list.Count - 1), Math.Min(random.Next(1, 40), list.Count - Math.Min(at, list.Count - 1)));
                break;
            case < 42 when list.Count > 0:
                var from = random.Next(list.Count);
                list.InsertRange(at, list.GetRange(from, Math.Min(random.Next(1, 200), list.Count - from)));
                break;
            case < 70:
                list.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
                break;
            case < 78:
                list.InsertRange(at, RawBytes[random.Next(RawBytes.Length)]);
                break;
            case < 88:
                // Around the nesting limit mostly, sometimes far past it.
                var limit = Http.RequestLimits.MaxDepth;
                var depth = random.Next(10) == 0 ? random.Next(10_000, 100_000) : random.Next(limit - 100, limit + 100);
                var (open, close) = random.Next(3) switch { 0 => ("[", "]"), 1 => ("{\"a\":", "}"), _ => ("{a: ", "}") };
                list.InsertRange(at, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, random.Next(depth + 1)))));
                break;
            case < 93:
                // A huge string: now and then past the 3 MiB body limit, or the object one.
                var length = random.Next(4) == 0 ? random.Next(1_400_000, 3_300_000) : random.Next(1_000, 300_000);
                list.InsertRange(at, Encoding.UTF8.GetBytes("\"" + new string((char)random.Next('a', 'z'), length) + "\""));
                break;
            default:
                var (_, other) = corpus[random.Next(corpus.Count)];
                list.RemoveRange(at, list.Count - at);
                list.AddRange(other.Skip(random.Next(other.Length + 1)));
                break;
        }
        return [.. list];
    }
}
