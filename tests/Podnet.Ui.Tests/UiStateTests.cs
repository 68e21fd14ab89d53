using System.Text.Json.Nodes;

namespace Podnet.Ui.Tests;

public sealed class UiStateTests
{
    [Fact]
    public void Subscriber_GetsSnapshotThenChanges_AndAnUnchangedUpsertSendsNothing()
    {
        var state = new UiState(new JsonObject { ["name"] = "lab1" });
        state.Upsert("pods", "default/a", new JsonObject { ["ip"] = "10.244.1.2" });
        using var subscription = state.Subscribe();
        Assert.True(subscription.Reader.TryRead(out var first));
        var snapshot = JsonNode.Parse(first!)!;
        Assert.Equal("snapshot", (string?)snapshot["op"]);
        Assert.Equal("lab1", (string?)snapshot["lab"]!["name"]);
        Assert.Equal("10.244.1.2", (string?)snapshot["objects"]!["pods"]!["default/a"]!["ip"]);

        Assert.False(state.Upsert("pods", "default/a", new JsonObject { ["ip"] = "10.244.1.2" }));
        Assert.False(subscription.Reader.TryRead(out _));

        state.Upsert("pods", "default/a", new JsonObject { ["ip"] = "10.244.1.3" });
        state.Delete("pods", "default/a");
        state.SetConnection(false, "refused");
        var messages = Drain(subscription).Select(m => JsonNode.Parse(m)!).ToList();
        Assert.Equal(["upsert", "delete", "connection"], messages.Select(m => (string?)m["op"]));
        Assert.Equal("10.244.1.3", (string?)messages[0]["object"]!["ip"]);
        Assert.False((bool)messages[2]["connected"]!);
    }

    [Fact]
    public void Subscriber_FallingTooFarBehind_IsCutOff_AndOthersKeepGoing()
    {
        var state = new UiState(new JsonObject());
        using var slow = state.Subscribe();
        for (var i = 0; i < UiState.MaxQueued + 5; i++)
        {
            state.Upsert("pods", $"default/p{i}", new JsonObject { ["i"] = i });
        }
        using var later = state.Subscribe();
        Assert.True(slow.Reader.Completion.IsCompleted || Drain(slow).Count == UiState.MaxQueued);
        Assert.True(later.Reader.TryRead(out var snapshot));
        Assert.Equal(UiState.MaxQueued + 5, JsonNode.Parse(snapshot!)!["objects"]!["pods"]!.AsObject().Count);
    }

    private static List<string> Drain(UiState.Subscription subscription)
    {
        var list = new List<string>();
        while (subscription.Reader.TryRead(out var message))
        {
            list.Add(message);
        }
        return list;
    }
}
