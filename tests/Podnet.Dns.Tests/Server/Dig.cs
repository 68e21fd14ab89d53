using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Podnet.Dns.Tests.Server;

/// <summary>What dig printed, split into the parts tests look at.</summary>
internal sealed partial record DigResult(string Output)
{
    public string Status => StatusPattern().Match(Output) is { Success: true } m ? m.Groups[1].Value : "none";

    public string[] Flags => FlagsPattern().Match(Output) is { Success: true } m ? m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];

    /// <summary>The answer section's lines as "name ttl type data" with single spaces.</summary>
    public string[] Answers => Section("ANSWER");

    public string[] Authority => Section("AUTHORITY");

    private string[] Section(string name)
    {
        var lines = Output.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith($";; {name} SECTION:", StringComparison.Ordinal));
        if (start < 0)
        {
            return [];
        }
        return [.. lines.Skip(start + 1).TakeWhile(l => l.Length > 0).Select(l => string.Join(' ', l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)).Replace(" IN ", " "))];
    }

    [GeneratedRegex(@"status: ([A-Z]+)")]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@";; flags: ([a-z ]*);")]
    private static partial Regex FlagsPattern();
}

/// <summary>Runs the real dig (dnsutils) against a server on loopback.</summary>
internal static class Dig
{
    public static bool Installed => File.Exists("/usr/bin/dig");

    public static async Task<DigResult> RunAsync(IPEndPoint server, params string[] arguments)
    {
        var start = new ProcessStartInfo("dig") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { $"@{server.Address}", "-p", server.Port.ToString(), "+tries=1", "+time=3", "+nocookie" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        return new DigResult(await output + await error);
    }
}
