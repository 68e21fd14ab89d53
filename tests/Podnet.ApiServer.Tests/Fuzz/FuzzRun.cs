using System.Diagnostics;
using System.Globalization;
using Podnet.ApiServer.Tests.Server;
using Xunit.Abstractions;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>
/// The loop the request fuzzers share: the seed (PODNET_FUZZ_SEED, else random) and the length
/// from the environment, printed for a replay; then requests until the time is up or ten have
/// failed, each answer's code counted, and the server checked alive after every request.
/// </summary>
internal static class FuzzRun
{
    public static (int Seed, TimeSpan Length) Settings(ITestOutputHelper output, string name, string secondsVariable, int defaultSeconds)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PODNET_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable(secondsVariable), CultureInfo.InvariantCulture, out var t) ? t : defaultSeconds;
        output.WriteLine($"{name}: seed {seed}, {seconds} s (replay: PODNET_FUZZ_SEED={seed})");
        return (seed, TimeSpan.FromSeconds(seconds));
    }

    /// <param name="step">Sends one request (the iteration's number given): what it was, its answer's code and what is wrong with it (null when nothing); null when nothing could be sent.</param>
    /// <returns>How many requests, the answers by code, and the failures, each naming the seed.</returns>
    public static async Task<(int Requests, string Answers, List<string> Failures)> RunAsync(int seed, TimeSpan length, ServerProcess server, Func<Random, int, Task<(string Case, int Code, string? Problem)?>> step)
    {
        var random = new Random(seed);
        var failures = new List<string>();
        var answers = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        var iteration = 0;
        for (; clock.Elapsed < length && failures.Count < 10; iteration++)
        {
            if (await step(random, iteration) is not { } sent)
            {
                continue;
            }
            answers[sent.Code] = answers.GetValueOrDefault(sent.Code) + 1;
            if (sent.Problem is not null)
            {
                failures.Add($"seed {seed} #{iteration}: {sent.Problem}: {sent.Case}");
            }
            if (server.HasExited)
            {
                failures.Add($"seed {seed} #{iteration}: the server died on {sent.Case}: {server.Stderr}");
                break;
            }
        }
        return (iteration, string.Join(", ", answers.Select(a => $"{a.Key}×{a.Value}")), failures);
    }
}
