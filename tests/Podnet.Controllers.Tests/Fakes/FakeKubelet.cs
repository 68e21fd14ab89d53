using System.Globalization;
using System.Text.Json.Nodes;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>
/// Plays the kubelet for controller tests over <see cref="FakeApiServer"/>: every pod bound to a
/// node gets an address from that node's pod CIDR, phase Running and Ready=True. A stand-in
/// until the agent (issue 6) exists.
/// </summary>
internal sealed class FakeKubelet(FakeStore store) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _next = 10;

    /// <summary>How long ago pods say they became ready (a minute by default).</summary>
    public TimeSpan ReadyAgo { get; set; } = TimeSpan.FromMinutes(1);

    public void Start() => _loop = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            RunPods();
            await Task.Delay(20).ConfigureAwait(false);
        }
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    private void RunPods()
    {
        foreach (var listed in store.List("pods").Items)
        {
            var meta = listed["metadata"]!;
            store.Update("pods", (string?)meta["namespace"], (string)meta["name"]!, Run);
        }
    }

    private bool Run(JsonObject pod)
    {
        var node = (string?)pod["spec"]?["nodeName"];
        if (string.IsNullOrEmpty(node) || pod["status"]?["podIP"] is not null)
        {
            return false;
        }
        var cidr = (string?)store.Get("nodes", null, node)?["spec"]?["podCIDR"] ?? "10.99.0.0/24";
        var ip = cidr[..cidr.LastIndexOf('.')] + "." + (_next++).ToString(CultureInfo.InvariantCulture);
        var since = DateTime.UtcNow.Subtract(ReadyAgo).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        pod["status"] = new JsonObject
        {
            ["phase"] = "Running",
            ["podIP"] = ip,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }),
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["lastTransitionTime"] = since }),
        };
        return true;
    }
}
