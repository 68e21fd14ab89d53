using System.Text.Json.Nodes;

namespace Podnet.Check.Trace;

/// <summary>
/// One statement of the trace: its layer (L7, L4, L3), the node it happened on, what it says,
/// the evidence it rests on, and whether the kernel confirmed it (nftrace, conntrack, the
/// kernel's route lookup) — a step only the API's objects suggest is marked unconfirmed.
/// </summary>
public sealed record TraceStep(string Layer, string? Node, string Text, string Evidence, bool Confirmed);

public sealed record TraceReport(string From, string To, IReadOnlyList<TraceStep> Steps, Observation Result)
{
    public IEnumerable<string> Lines()
    {
        yield return $"trace {From} -> {To}";
        foreach (var s in Steps)
        {
            yield return $"{s.Layer}  {(s.Confirmed ? "confirmed  " : "unconfirmed")}  {(s.Node is null ? "" : s.Node + ": ")}{s.Text}  [{s.Evidence}]";
        }
        yield return $"result: {(Result.Outcome is { } o ? CheckTable.Word(o) : "error")} ({Result.Evidence})";
    }

    public JsonObject ToJson() => new()
    {
        ["from"] = From,
        ["to"] = To,
        ["steps"] = new JsonArray(Steps.Select(s => (JsonNode)new JsonObject
        {
            ["layer"] = s.Layer,
            ["node"] = s.Node,
            ["text"] = s.Text,
            ["evidence"] = s.Evidence,
            ["confirmed"] = s.Confirmed,
        }).ToArray()),
        ["result"] = new JsonObject
        {
            ["outcome"] = Result.Outcome is { } o ? CheckTable.Word(o) : "error",
            ["evidence"] = Result.Evidence,
        },
    };
}
