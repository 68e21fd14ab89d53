using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.Cni.Config;
using Podnet.Cni.IntegrationTests.Infrastructure;
using Podnet.Testing;
using Xunit.Abstractions;

namespace Podnet.Cni.IntegrationTests;

/// <summary>
/// A time-bounded random run of the published plugin over mutated configurations (the corpus in
/// tests/fuzz/corpus/cni) and mutated CNI_* variables, in every CI run. Each call must end in
/// time with either a result or the spec's error JSON whose message is the plugin's own (never a
/// bare .NET exception), and afterwards nothing may be left behind: every ADD that succeeded is
/// undone by a DEL of the same call, then the address store holds no reservation and no veth is
/// left in the node or pod namespaces. PODNET_FUZZ_SEED replays a run; PODNET_CNI_FUZZ_SECONDS
/// sets its length (default 20).
/// </summary>
/// <remarks>
/// Everything stays in the test's namespaces: the plugin runs in a node namespace, CNI_NETNS
/// names only the test's pod namespaces or paths that are not namespaces at all (never a
/// /proc/PID/ns path, which could be the root namespace), CNI_PATH holds only bin/ so no other
/// IPAM plugin is run, and a configuration whose ipam.dataDir (as the plugin's own parser reads
/// it) would leave the test's directory is not sent.
/// </remarks>
public sealed partial class CniFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Commands = ["ADD", "ADD", "ADD", "ADD", "ADD", "DEL", "DEL", "DEL", "CHECK", "CHECK", "VERSION", "GC", "STATUS", "add", "", "ADD ", "DELETE"];
    private static readonly string?[] IfNames = ["eth0", "eth0", "eth1", "", "abcdefghijklmnop", "a/b", "..", "lo", "net 1", "é", null];
    private static readonly string?[] Args = [null, null, null, null, "K8S_POD_NAME=a;K8S_POD_NAMESPACE=b;K8S_POD_INFRA_CONTAINER_ID=c", "IgnoreUnknown=1;X=Y", ";;;", "a", "=", "K8S_POD_NAME=" + new string('n', 5000), "IgnoreUnknown=true;IP=10.99.0.9"];
    private static readonly string[] Tokens = ["[", "]", "{", "}", "\"", ":", ",", "null", "true", "-1", "1e999", "0.5", "18446744073709551616", "\\u0000", "\\ud800", "\"\"", "[]", "{}", "\"10.99.0.0/33\"", "\"fd00::/129\"", "\"0.4.0\"", "\"2.0.0\""];

    [PrivilegedFact]
    public void MutatedCalls_EndWithAResultOrTheSpecsError_AndLeaveNothingBehind()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PODNET_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("PODNET_CNI_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var t) ? t : 20;
        output.WriteLine($"cni fuzz: seed {seed}, {seconds} s (replay: PODNET_FUZZ_SEED={seed})");
        using var lab = new CniLab();
        var corpusDirectory = Path.Combine(PluginBinary.RepositoryRoot, "tests", "fuzz", "corpus", "cni");
        var corpus = Directory.GetFiles(corpusDirectory).Order(StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileName(f), Text: File.ReadAllText(f).Replace("DATADIR", lab.DataDir, StringComparison.Ordinal)))
            .ToList();
        Assert.True(corpus.Count >= 5, $"the corpus in {corpusDirectory} has {corpus.Count} configurations");
        var pods = Enumerable.Range(0, 3).Select(i => lab.NewPod($"f{i}")).ToList();
        string?[] netnsChoices = [.. pods.Select(p => p.Netns.Path), .. pods.Select(p => p.Netns.Path), "", "/nonexistent/netns", "/dev/null", "relative/netns", lab.Dir, null];

        var random = new Random(seed);
        var failures = new List<string>();
        var added = new List<Call>();
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var skipped = 0;
        var clock = Stopwatch.StartNew();
        var iteration = 0;
        for (; clock.Elapsed < TimeSpan.FromSeconds(seconds) && failures.Count < 10; iteration++)
        {
            var (name, text) = corpus[random.Next(corpus.Count)];
            var stdin = random.Next(5) == 0 ? text : Mutate(random, text, corpus);
            if (!StaysInside(stdin, lab.Dir))
            {
                skipped++;
                continue;
            }
            var call = new Call(
                name.StartsWith("ipam.", StringComparison.Ordinal) ? PluginBinary.Ipam : PluginBinary.Cni,
                Commands[random.Next(Commands.Length)],
                stdin,
                // Mostly valid variables, so that the configuration's mutations reach past the checks of CNI_*.
                random.Next(4) != 0 ? $"c{random.Next(6)}" : random.Next(5) switch { 0 => "", 1 => new string('c', 300), 2 => "../../etc", 3 => "a b", _ => null },
                random.Next(4) != 0 ? pods[random.Next(pods.Count)].Netns.Path : netnsChoices[random.Next(netnsChoices.Length)],
                random.Next(4) != 0 ? (random.Next(3) == 0 ? "eth1" : "eth0") : IfNames[random.Next(IfNames.Length)],
                Args[random.Next(Args.Length)]);
            var result = Run(lab, call);
            var verdict = Judge(result);
            codes[verdict.Code] = codes.GetValueOrDefault(verdict.Code) + 1;
            if (verdict.Problem is not null)
            {
                failures.Add($"seed {seed} #{iteration}: {verdict.Problem}: exit {result.ExitCode}, stdout {Cut(result.Stdout)}, stderr {Cut(result.Stderr)} ← {call}");
            }
            if (result.ExitCode == 0 && call.Command == "ADD")
            {
                added.Add(call);
            }
        }
        output.WriteLine($"cni fuzz: {iteration} calls ({skipped} configurations not sent: their dataDir leaves the test), answers {string.Join(", ", codes.Select(c => $"{c.Key}×{c.Value}"))}, {added.Count} ADDs succeeded");
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // Undo every ADD that succeeded, newest first, with the very call that made it.
        foreach (var call in Enumerable.Reverse(added))
        {
            var del = Run(lab, call with { Command = "DEL" });
            Assert.True(del.ExitCode == 0, $"seed {seed}: DEL after {call} failed: {del.Stdout} {del.Stderr}");
        }
        var reservations = Directory.Exists(lab.DataDir)
            ? Directory.GetFiles(lab.DataDir, "*", SearchOption.AllDirectories).Where(f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)).ToList()
            : [];
        Assert.True(reservations.Count == 0, $"seed {seed}: addresses still reserved after every DEL: {string.Join(", ", reservations)}");
        foreach (var ns in (TestNamespaceLike[])[new(lab.Node.Netns, "node"), .. pods.Select(p => new TestNamespaceLike(p.Netns, p.Name))])
        {
            var links = JsonNode.Parse(Tools.Run(ns.Netns, "ip", "-d", "-j", "link", "show").StandardOutput)!.AsArray();
            var veths = links.Where(l => (string?)l?["linkinfo"]?["info_kind"] == "veth").Select(l => (string)l!["ifname"]!).ToList();
            Assert.True(veths.Count == 0, $"seed {seed}: veths left in the {ns.Label} namespace: {string.Join(", ", veths)}");
        }
    }

    private sealed record TestNamespaceLike(Kernel.Netns Netns, string Label);

    private sealed record Call(string Binary, string Command, string Stdin, string? ContainerId, string? Netns, string? IfName, string? Args)
    {
        public override string ToString() =>
            $"{Path.GetFileName(Binary)} CNI_COMMAND={Command} CNI_CONTAINERID={Cut(ContainerId)} CNI_NETNS={Netns} CNI_IFNAME={IfName} CNI_ARGS={Cut(Args)} stdin {Cut(Stdin)}";
    }

    private static CniOutcome Run(CniLab lab, Call call) =>
        lab.Run(call.Command, call.Stdin, call.ContainerId, call.Netns, call.IfName, call.Args, path: PluginBinary.Directory, binary: call.Binary);

    /// <summary>A success has JSON (or nothing) on stdout; a failure the spec's error object with the plugin's own message.</summary>
    private static (string Code, string? Problem) Judge(CniOutcome result)
    {
        JsonNode? answer;
        try
        {
            answer = result.Stdout.Trim().Length == 0 ? null : JsonNode.Parse(result.Stdout);
        }
        catch (JsonException)
        {
            return ("?", "stdout is not JSON");
        }
        if (result.ExitCode == 0)
        {
            return ("ok", answer is null or JsonObject ? null : "a success whose stdout is not a JSON object");
        }
        if (answer is not JsonObject error || error["code"] is not JsonValue code || !code.TryGetValue<int>(out var number))
        {
            return ("?", "a failure without the spec's error object");
        }
        var message = (string?)error["msg"];
        if (string.IsNullOrWhiteSpace(message) || (string?)error["cniVersion"] is null)
        {
            return (number.ToString(CultureInfo.InvariantCulture), "an error object without msg or cniVersion");
        }
        // The catch-all branch names a .NET exception type: a case no check of the plugin's own caught.
        return (number.ToString(CultureInfo.InvariantCulture), BareException().IsMatch(message) || ResourceKey().IsMatch(message) ? "an unexplained exception" : null);
    }

    [GeneratedRegex(@"^[A-Z][A-Za-z]*Exception: ")]
    private static partial Regex BareException();

    /// <summary>A .NET resource key where a message should be (the trimmed binary has no resource strings), such as IO_PathTooLong_Path.</summary>
    [GeneratedRegex(@"\b(IO|Arg|Argument|InvalidOperation|Format|Overflow|Net|Security|UnauthorizedAccess|Cryptography|Text)_[A-Z][A-Za-z]*")]
    private static partial Regex ResourceKey();

    /// <summary>False when the plugin's own parser would read an ipam.dataDir outside <paramref name="root"/> (or none: the default store).</summary>
    private static bool StaysInside(string stdin, string root)
    {
        IpamDto? ipam;
        try
        {
            ipam = NetConfParser.Decode(stdin).Ipam;
        }
        catch (Exception e) when (e is Spec.CniException or JsonException or InvalidOperationException or FormatException)
        {
            return true; // the plugin cannot decode it either
        }
        return ipam is null || (ipam.DataDir is { } dir && dir.StartsWith(root + "/", StringComparison.Ordinal) && !dir.Contains("..", StringComparison.Ordinal));
    }

    private static string Mutate(Random random, string text, IReadOnlyList<(string Name, string Text)> corpus) =>
        new TextMutator(Tokens, Values).Mutate(random, text, corpus.Select(c => c.Text).ToArray());

    /// <summary>Values in the corpus worth replacing by a token of the wrong kind.</summary>
    private static readonly string[] Values = ["\"1.0.0\"", "\"pn0\"", "true", "false", "\"10.99.0.0/24\"", "\"podnet-ipam\"", "\"podnet-cni\"", "1400", "[[", "\"t\""];

    private static string Cut(string? text) => text is null ? "(unset)" : text.Length <= 600 ? text : $"{text[..600]}… ({text.Length} chars)";
}
