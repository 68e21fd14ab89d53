using System.Globalization;

namespace Podnet.Check;

/// <summary>The table `podnet check` prints: test, expected, observed, time, and the evidence.</summary>
public static class CheckTable
{
    public static IEnumerable<string> Lines(CheckReport report)
    {
        var width = Math.Max(4, report.Results.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
        yield return $"{"TEST".PadRight(width)}  {"EXPECTED",-8}  {"OBSERVED",-8}  {"TIME",6}  RESULT  EVIDENCE";
        foreach (var r in report.Results)
        {
            var observed = r.Skipped ? "-" : r.Observed?.Outcome is { } o ? Word(o) : "error";
            var time = r.Skipped ? "-" : r.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + "s";
            var verdict = r.Skipped ? "skip" : r.Passed ? "ok" : "FAIL";
            var evidence = r.Skipped ? r.SkipReason : r.Observed?.Evidence;
            yield return $"{r.Name.PadRight(width)}  {Word(r.Expected),-8}  {observed,-8}  {time,6}  {verdict,-6}  {evidence}";
        }
        var failed = report.Results.Count(r => !r.Passed);
        var skipped = report.Results.Count(r => r.Skipped);
        yield return $"{report.Results.Count - failed - skipped} passed, {failed} failed, {skipped} skipped" +
            (report.Kept ? $"; namespace {report.Namespace} kept (delete it with: podnet delete namespace {report.Namespace})" : "");
    }

    public static string Word(Outcome outcome) => outcome switch
    {
        Outcome.Connect => "connect",
        Outcome.Refuse => "refuse",
        _ => "drop",
    };
}
