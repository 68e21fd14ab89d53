using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class YamlToJsonTests
{
    private static readonly int Limit = RequestLimits.MaxDepth;

    private static JsonNode? One(string yaml) => Assert.Single(YamlToJson.Documents(yaml).ToList());

    /// <summary>What the server did before the bounded reader (YamlStream and a recursive walk): the oracle for ordinary documents.</summary>
    private static JsonNode? Before(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", Before(p.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Before).ToArray()),
        YamlScalarNode scalar => YamlToJson.ScalarValue(scalar.Value ?? "", scalar.Style),
        _ => null,
    };

    [Theory]
    [InlineData("a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: .5\nf: true\ng: False\nh: ~\ni: null\nj:\nk: '1'\nl: \"true\"\nm: 0x1F\nn: 0o17\no: 1_000\np: +7\nq: .inf\nr: -.Inf\ns: .nan\nt: yes\nu: 09\nv: 12345678901234567890\nw: -0\nx: 1.\n")]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b, 'c': \"d\"}\ndata:\n  key: |\n    line 1\n    line 2\n  folded: >\n    a\n    b\n  empty: ''\n")]
    [InlineData("- a\n- [1, 2, [3, {x: y}]]\n- {}\n- []\n- - nested\n  - block\n-\n- !!str 12\n- ! 13\n")]
    [InlineData("{\"json\": [1, 2.5, \"three\", null, true, {\"k\": \"v\"}]}")]
    [InlineData("a: &anchor {x: 1, y: [2, 3]}\nb: *anchor\nc: &s scalar\nd: *s\n*s : aliased key\n")]
    public void OrdinaryDocuments_ConvertExactlyAsYamlStreamDid(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        Assert.Equal(Before(stream.Documents[0].RootNode)?.ToJsonString(), One(yaml)?.ToJsonString());
    }

    [Fact]
    public void Documents_StreamOfSeveral_EmptyAndNullOnesAreNull()
    {
        var documents = YamlToJson.Documents("a: 1\n---\n---\n~\n---\n- x\n").ToList();
        Assert.Equal(["{\"a\":1}", null, null, "[\"x\"]"], documents.Select(d => d?.ToJsonString()));
        Assert.Equal(2, Bodies.YamlDocuments("a: 1\n---\n---\n- x\n").Count);
        Assert.Empty(YamlToJson.Documents(""));
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("- ", "")]
    [InlineData("a:\n", "")]
    public void Nesting_UpToTheLimitWorks_OneMoreIsRefused(string open, string close)
    {
        Assert.Equal(Limit, Depth(One(Nest(open, close, Limit))));
        var e = Assert.ThrowsAny<YamlException>(() => One(Nest(open, close, Limit + 1)));
        Assert.Contains($"yaml: exceeded max depth of {Limit}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_HundredThousandBrackets_RefusedWithoutReadingThemAll()
    {
        var e = Assert.ThrowsAny<YamlException>(() => One(new string('[', 100_000)));
        Assert.Contains("exceeded max depth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_AnAliasCountsTheDepthItBringsIn()
    {
        var deep = Nest("[", "]", Limit - 1);
        Assert.Equal(Limit, Depth(One($"a: &d {deep}\nb: c\n")));
        var e = Assert.ThrowsAny<YamlException>(() => One($"a: &d {deep}\nb: [*d]\n"));
        Assert.Contains("exceeded max depth", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aliases_WithinTheBudget_AreCopies()
    {
        var root = One("base: &b {x: [1, 2]}\nuse: [*b, *b]\n")!.AsObject();
        Assert.Equal("""[{"x":[1,2]},{"x":[1,2]}]""", root["use"]!.ToJsonString());
        root["use"]![0]!["x"] = 0;
        Assert.Equal("""{"x":[1,2]}""", root["use"]![1]!.ToJsonString());
        // Three levels of ten: a thousand-odd nodes, as goyaml accepts.
        Assert.NotNull(One(Laughs(levels: 3, fanout: 10)));
    }

    [Theory]
    [InlineData(5, 10)]
    [InlineData(9, 9)]
    public void Aliases_ExpandingBeyondGoyamlsRatio_AreRefused(int levels, int fanout)
    {
        var e = Assert.ThrowsAny<YamlException>(() => One(Laughs(levels, fanout)));
        Assert.Contains("yaml: document contains excessive aliasing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a: *nope\n", "yaml: unknown anchor 'nope' referenced")]
    [InlineData("a: &x {b: *x}\n", "yaml: anchor 'x' value contains itself")]
    [InlineData("a: &x [1, *x]\n", "yaml: anchor 'x' value contains itself")]
    [InlineData("? [a, b]\n: 1\n", "yaml: invalid map key")]
    [InlineData("a: &m {x: 1}\n*m : 2\n", "yaml: invalid map key")]
    [InlineData("a: 1\nb:\n  <<: 5\n", "yaml: map merge requires map or sequence of maps as the value")]
    [InlineData("a: 1\na: 2\n", "Duplicate key \"a\"")]
    public void Malformed_IsAYamlError_NeverAServerFault(string yaml, string message)
    {
        var e = Assert.ThrowsAny<YamlException>(() => One(yaml));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScannerExceptionsOfYamlDotNet_AreYamlErrors()
    {
        var found = File.ReadAllText(Path.Combine(Testing.RepoPaths.Root, "tests", "fuzz", "corpus", "apiserver", "configmaps.found-scanner-exception.yaml"));
        Assert.ThrowsAny<YamlException>(() => YamlToJson.Documents(found).ToList());
        Assert.ThrowsAny<YamlException>(() => One("a: \"\\udfff\\ud800\"\n"));
    }

    [Fact]
    public void Numbers_BeyondDouble_AreStrings()
    {
        Assert.Equal("""{"a":"1e400","b":"-1e999","c":1E+300}""", One("a: 1e400\nb: -1e999\nc: 1e300\n")!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"a":"\ud800"}""", """{"a":"\ufffd"}""")]
    [InlineData("""{"a":"\udc00x\ud800\ud800\udc00"}""", """{"a":"\ufffdx\ufffd\ud800\udc00"}""")]
    [InlineData("""{"\ud83d\ude00":"\\ud800","b":"\"\ud800"}""", """{"\ud83d\ude00":"\\ud800","b":"\"\ufffd"}""")]
    [InlineData("""{"a":"\ud8""", """{"a":"\ud8""")]
    public void JsonBodies_LoneSurrogateEscapes_BecomeReplacementCharacters(string json, string expected)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        Bodies.ReplaceLoneSurrogateEscapes(bytes);
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Anchors_ARedefinedNameMeansTheNewestDefinition()
    {
        Assert.Equal("""{"a":1,"b":2,"c":2}""", One("a: &n 1\nb: &n 2\nc: *n\n")!.ToJsonString());
    }

    [Fact]
    public void MergeKeys_OwnKeysWin_ThenEarlierMergedMappings()
    {
        var yaml = """
            base: &base {a: 1, b: 1, c: 1}
            more: &more {c: 2, d: 2}
            one:
              <<: *base
              b: own
            list:
              b: own
              <<: [*more, *base]
            inline:
              <<: {x: 1}
              y: 2
            quoted:
              "<<": *base
            """;
        var root = One(yaml)!.AsObject();
        Assert.Equal("""{"b":"own","a":1,"c":1}""", root["one"]!.ToJsonString());
        Assert.Equal("""{"b":"own","c":2,"d":2,"a":1}""", root["list"]!.ToJsonString());
        Assert.Equal("""{"y":2,"x":1}""", root["inline"]!.ToJsonString());
        Assert.Equal("""{"a":1,"b":1,"c":1}""", root["quoted"]!["<<"]!.ToJsonString());
        Assert.Equal("""{"a":1,"b":1,"c":1}""", root["base"]!.ToJsonString());
    }

    [Fact]
    public void Output_OverTheBodyLimitAsJson_IsTooLarge()
    {
        // 8 aliases of a 0.5 MB string: a ratio goyaml allows, 4 MB of output.
        var yaml = $"a: &s \"{new string('x', 512 * 1024)}\"\nb: [*s, *s, *s, *s, *s, *s, *s, *s]\n";
        var e = Assert.Throws<YamlBoundException>(() => One(yaml));
        Assert.True(e.TooLarge);
    }

    [Fact]
    public void Cancellation_StopsTheWalk()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var yaml = string.Join('\n', Enumerable.Range(0, 2000).Select(i => $"k{i}: v"));
        Assert.Throws<OperationCanceledException>(() => YamlToJson.Documents(yaml, cancelled.Token).ToList());
    }

    [Fact]
    public void Bodies_Yaml_MapsEachBoundToItsStatus()
    {
        Assert.Equal(400, Assert.Throws<ApiException>(() => Bodies.Yaml(new string('[', 100_000))).Code);
        Assert.Equal(400, Assert.Throws<ApiException>(() => Bodies.Yaml(Laughs(9, 9))).Code);
        Assert.Equal(400, Assert.Throws<ApiException>(() => Bodies.Yaml("a: 1\n---\nb: 2\n")).Code);
        var tooLarge = Assert.Throws<ApiException>(() => Bodies.Yaml($"a: &s \"{new string('x', 1024 * 1024)}\"\nb: [*s, *s, *s]\n"));
        Assert.Equal((413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"), (tooLarge.Code, tooLarge.Reason, tooLarge.Message));
    }

    /// <summary>Anchors a0…a(levels-1), each a list of <paramref name="fanout"/> aliases of the one before: a billion laughs at 9 and 9.</summary>
    internal static string Laughs(int levels, int fanout, string indent = "")
    {
        var text = new System.Text.StringBuilder($"{indent}a0: &a0 \"lol\"\n");
        for (var level = 1; level < levels; level++)
        {
            text.Append($"{indent}a{level}: &a{level} [{string.Join(", ", Enumerable.Repeat($"*a{level - 1}", fanout))}]\n");
        }
        return text.ToString();
    }

    private static string Nest(string open, string close, int depth)
    {
        if (open == "- ")
        {
            return string.Concat(Enumerable.Range(0, depth).Select(i => new string(' ', 2 * i) + "-\n")) + new string(' ', 2 * depth) + "x\n";
        }
        if (open == "a:\n")
        {
            return string.Concat(Enumerable.Range(0, depth).Select(i => new string(' ', i) + "a:\n")) + new string(' ', depth) + "x\n";
        }
        return string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
    }

    private static int Depth(JsonNode? node)
    {
        var depth = 0;
        while (node is JsonObject or JsonArray)
        {
            depth++;
            node = node is JsonObject o ? o.First().Value : node.AsArray()[0];
        }
        return depth;
    }
}
