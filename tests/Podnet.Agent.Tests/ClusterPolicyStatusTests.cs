using System.Text.Json.Nodes;
using Podnet.Agent.Policy;
using Podnet.Controllers.Projections;

namespace Podnet.Agent.Tests;

/// <summary>The Accepted condition of a ClusterNetworkPolicy: what the projection cannot read, and when the agents write.</summary>
public sealed class ClusterPolicyStatusTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);

    private static JsonNode Spec(string json) => JsonNode.Parse(json)!;

    private const string Readable = """
        {"tier": "Admin", "priority": 10, "subject": {"namespaces": {}},
         "ingress": [{"action": "Deny", "from": [{"namespaces": {}}], "protocols": [{"tcp": {"destinationPort": {"number": 80}}}]}],
         "egress": [{"action": "Accept", "to": [{"networks": ["10.0.0.0/8", "fd00::/8"]}]}]}
        """;

    [Fact]
    public void ASpecReadInFull_IsAccepted_WithTheGenerationObserved()
    {
        Assert.Empty(ObjectProjection.ClusterNetworkPolicyProblems(Spec(Readable)));
        var status = ClusterPolicyStatus.Calc(null, 3, [], T0)!;
        var condition = Assert.Single(status["conditions"]!.AsArray())!;
        Assert.Equal("Accepted", (string?)condition["type"]);
        Assert.Equal("True", (string?)condition["status"]);
        Assert.Equal("Accepted", (string?)condition["reason"]);
        Assert.Equal(3, (long)condition["observedGeneration"]!);
        Assert.Equal("2026-12-08T03:00:00Z", (string?)condition["lastTransitionTime"]);
    }

    [Fact]
    public void WhatCannotBeRead_IsNamedByPath_AndTheConditionIsFalse()
    {
        // Experimental peers (nodes, domainNames) reach the engine only from a CRD of another channel.
        var problems = ObjectProjection.ClusterNetworkPolicyProblems(Spec("""
            {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}},
             "ingress": [{"action": "Accept", "from": [{"namespaces": {}}, {"nodes": {}}]}],
             "egress": [{"action": "Deny", "to": [{"domainNames": ["example.com"]}], "protocols": [{"icmp": {}}]}, {"action": "Allow", "to": []}]}
            """));
        Assert.Equal(
        [
            "spec.ingress[0].from[1]: no peer this version can read (nodes); the rule matches nothing",
            "spec.egress[0].to[0]: no peer this version can read (domainNames); the rule matches all traffic",
            "spec.egress[0].protocols[0]: no protocol this version can read (icmp); the rule matches all traffic",
            "spec.egress[1].action: \"Allow\" is not Accept, Deny or Pass; the rule is left out",
        ], problems);
        var condition = ClusterPolicyStatus.Calc(null, 1, problems, T0)!["conditions"]![0]!;
        Assert.Equal("False", (string?)condition["status"]);
        Assert.Equal("UnreadableFields", (string?)condition["reason"]);
        Assert.StartsWith("read failing closed: spec.ingress[0].from[1]: no peer", (string?)condition["message"], StringComparison.Ordinal);
        Assert.Equal(["spec.tier: \"Middle\" is not Admin or Baseline; the policy selects no pod"],
            ObjectProjection.ClusterNetworkPolicyProblems(Spec("""{"tier": "Middle", "priority": 1, "subject": {"namespaces": {}}}""")));
    }

    [Fact]
    public void NothingIsWritten_WhenTheConditionIsRight_AndOthersConditionsAreKept()
    {
        var written = ClusterPolicyStatus.Calc(JsonNode.Parse("""{"conditions": [{"type": "Ready-In-Zone-a", "status": "True"}]}"""), 1, [], T0)!;
        Assert.Equal(["Ready-In-Zone-a", "Accepted"], written["conditions"]!.AsArray().Select(c => (string?)c!["type"]));
        Assert.Null(ClusterPolicyStatus.Calc(written, 1, [], T0.AddMinutes(5)));
        // A new generation with the same verdict keeps the transition time; a changed verdict moves it.
        var next = ClusterPolicyStatus.Calc(written, 2, [], T0.AddMinutes(5))!;
        Assert.Equal("2026-12-08T03:00:00Z", (string?)next["conditions"]![1]!["lastTransitionTime"]);
        var refused = ClusterPolicyStatus.Calc(next, 3, ["spec.egress[0].to[0]: x"], T0.AddMinutes(6))!;
        Assert.Equal("2026-12-08T03:06:00Z", (string?)refused["conditions"]![1]!["lastTransitionTime"]);
    }
}
