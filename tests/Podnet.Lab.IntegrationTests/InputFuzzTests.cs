using System.Diagnostics;
using System.Globalization;
using Podnet.Lab.State;
using Podnet.Lab.Topology;
using Podnet.Testing;
using Xunit.Abstractions;

namespace Podnet.Lab.IntegrationTests;

/// <summary>
/// Fuzz runs over the two files users hand to Podnet besides API bodies and CNI calls: lab files
/// (tests/fuzz/corpus/lab, parsed and planned in-process, as `lab up -f` does before it builds
/// anything) and `podnet apply` manifests (tests/fuzz/corpus/manifests, through the real
/// bin/podnet against a kubeconfig whose server is a closed loopback port, so each run ends at
/// parsing or at the connection). Inputs as written or mutated (<see cref="TextMutator"/>). Each
/// must end within its bound with the settings or a clear error: for a lab file a
/// FormatException or ArgumentException naming what is wrong, for apply an exit status of 1 and
/// an "error: …" line (or kubectl's "The connection to the server … was refused"), never a crash
/// or a .NET stack trace. PODNET_FUZZ_SEED=N replays a run;
/// PODNET_INPUT_FUZZ_SECONDS=S runs each longer (default 8 and 12).
/// </summary>
public sealed class InputFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Tokens =
    [
        "[", "]", "{", "}", "\"", "'", ":", ",", "\n", "\n- ", "  ", "&a ", "*a", "<<: ", "? ", "!!str ", "!!binary ", "!!int ", "|", ">", "#", "---\n", "...\n",
        "null", "true", "~", "1e999", "-1", "0x10", "18446744073709551616", "\\u0000", "\\ud800", "\t", "%YAML 1.2\n", "@", "`", "\u00ff", "\ufeff",
    ];

    private static readonly string[] Values = ["3", "host-gw", "vxlan", "ipv4", "dual", "island", "5s", "Lab", "podnet.io/v1alpha1", "subnet", "v1", "name", "80", "web", "apps/v1", "Deployment", "ports"];

    private static (int Seed, TimeSpan Duration) Settings(int defaultSeconds)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PODNET_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("PODNET_INPUT_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var t) ? t : defaultSeconds;
        return (seed, TimeSpan.FromSeconds(seconds));
    }

    private static string[] Corpus(string kind) =>
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "tests", "fuzz", "corpus", kind)).Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray();

    private static string Shown(string text) => text.Length <= 400 ? text : $"{text[..400]}… ({text.Length} chars)";

    [Fact]
    public async Task LabFiles_ParseAndPlan_OrSayWhatIsWrong()
    {
        var (seed, duration) = Settings(8);
        var corpus = Corpus("lab");
        Assert.NotEmpty(corpus);
        var random = new Random(seed);
        var mutator = new TextMutator(Tokens, Values);
        var counts = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration || i < corpus.Length; i++)
        {
            var text = i < corpus.Length ? corpus[i] : mutator.Mutate(random, corpus[random.Next(corpus.Length)], corpus);
            string? message = null;
            var outcome = await Task.Run(() =>
            {
                try
                {
                    var settings = LabFile.Parse(text);
                    LabPlanner.Build(settings.ToSpec());
                    return "planned";
                }
                catch (FormatException e) when (e.Message.Length > 0)
                {
                    message = e.Message;
                    return "refused";
                }
                catch (ArgumentException e) when (e.Message.Length > 0)
                {
                    message = e.Message;
                    return "refused by the planner";
                }
                catch (Exception e)
                {
                    return $"CRASH {e.GetType().Name}: {e.Message}";
                }
            }).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "HANG (10 s)", TaskScheduler.Default);
            Assert.False(outcome.StartsWith("CRASH", StringComparison.Ordinal) || outcome.StartsWith("HANG", StringComparison.Ordinal),
                $"seed {seed}, input {i}: {outcome}\n{Shown(text)}");
            Assert.True(i >= corpus.Length || outcome == "planned", $"corpus file {i} must plan: {outcome}: {message}");
            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
        }
        output.WriteLine($"seed {seed}: {string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"))}");
    }

    [Fact]
    public async Task ApplyManifests_EndWithAClearError_NeverACrash()
    {
        var (seed, duration) = Settings(12);
        var corpus = Corpus("manifests");
        Assert.NotEmpty(corpus);
        var random = new Random(seed);
        var mutator = new TextMutator(Tokens, Values);
        var dir = Directory.CreateTempSubdirectory("podnet-apply-fuzz-").FullName;
        try
        {
            // A server that is never there: port 1 on loopback refuses at once.
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                current-context: x
                """);
            var podnet = RepoPaths.Bin("podnet");
            var counts = new Dictionary<string, int>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; clock.Elapsed < duration || i < corpus.Length; i++)
            {
                var text = i < corpus.Length ? corpus[i] : mutator.Mutate(random, corpus[random.Next(corpus.Length)], corpus);
                var manifest = Path.Combine(dir, "manifest.yaml");
                await File.WriteAllTextAsync(manifest, text);
                var result = Kernel.ProcessRunner.Run(null, podnet, ["apply", "-f", manifest, "--kubeconfig", kubeconfig], timeout: TimeSpan.FromSeconds(60));
                var error = result.StandardError;
                var clear = error.StartsWith("error: ", StringComparison.Ordinal) || error.StartsWith("The connection to the server 127.0.0.1:1 was refused", StringComparison.Ordinal);
                Assert.True(result.ExitCode == 1 && clear && !error.Contains("   at ", StringComparison.Ordinal) && !error.Contains("Unhandled exception", StringComparison.Ordinal),
                    $"seed {seed}, input {i}: exit {result.ExitCode}\nstderr: {Shown(error)}\nstdout: {Shown(result.StandardOutput)}\nmanifest: {Shown(text)}");
                var kind = error.Contains("error parsing", StringComparison.Ordinal) ? "refused as YAML" : "parsed, then no server";
                counts[kind] = counts.GetValueOrDefault(kind) + 1;
            }
            output.WriteLine($"seed {seed}: {string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"))}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
