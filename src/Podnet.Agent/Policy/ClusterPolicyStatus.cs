using System.Globalization;
using System.Text.Json.Nodes;

namespace Podnet.Agent.Policy;

/// <summary>
/// The condition the agents write into a ClusterNetworkPolicy's <c>status.conditions</c>, as a
/// pure function of the policy: type <c>Accepted</c>, True (reason <c>Accepted</c>) when the
/// policy engine reads every field of its spec, else False (reason <c>UnreadableFields</c>)
/// with each part it reads failing closed named in the message.
/// </summary>
/// <remarks>
/// Design. Upstream (network-policy-api v1alpha2, site-src/api-overview.md "Status") defines
/// the status as a list of metav1.Conditions and leaves their types to implementations. Podnet
/// writes one, and its content depends on the spec only, not on the node: every agent computes
/// the same condition, so whichever agent writes first makes it right for all, and the others
/// find nothing to change (a racing write fails on the resourceVersion and is judged again from
/// the newer object). Conditions of other types (other writers) are kept as they are; the
/// transition time changes only when the condition's status does.
/// </remarks>
public static class ClusterPolicyStatus
{
    public const string ConditionType = "Accepted";
    public const string AcceptedReason = "Accepted";
    public const string UnreadableReason = "UnreadableFields";

    // metav1.Condition's message is at most 32768 characters.
    private const int MessageLimit = 32768;

    /// <summary>
    /// The status to write, or null when <paramref name="current"/> already holds the condition
    /// for <paramref name="generation"/> with these <paramref name="problems"/>.
    /// </summary>
    public static JsonObject? Calc(JsonNode? current, long generation, IReadOnlyList<string> problems, DateTimeOffset now)
    {
        var accepted = problems.Count == 0;
        var status = accepted ? "True" : "False";
        var reason = accepted ? AcceptedReason : UnreadableReason;
        var message = accepted
            ? "the policy engine reads every field; each node's agent enforces it"
            : "read failing closed: " + string.Join("; ", problems);
        if (message.Length > MessageLimit)
        {
            message = message[..MessageLimit];
        }
        var conditions = current?["conditions"] as JsonArray ?? [];
        var mine = conditions.OfType<JsonObject>().FirstOrDefault(c => Text(c["type"]) == ConditionType);
        if (mine is not null && Text(mine["status"]) == status && Text(mine["reason"]) == reason && Text(mine["message"]) == message
            && mine["observedGeneration"] is JsonValue g && g.TryGetValue<long>(out var observed) && observed == generation)
        {
            return null;
        }
        var since = mine is not null && Text(mine["status"]) == status && Text(mine["lastTransitionTime"]) is { } kept
            ? kept
            : now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var written = new JsonArray();
        foreach (var other in conditions.OfType<JsonObject>().Where(c => Text(c["type"]) != ConditionType))
        {
            written.Add(other.DeepClone());
        }
        written.Add(new JsonObject
        {
            ["type"] = ConditionType,
            ["status"] = status,
            ["observedGeneration"] = generation,
            ["lastTransitionTime"] = since,
            ["reason"] = reason,
            ["message"] = message,
        });
        return new JsonObject { ["conditions"] = written };
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
