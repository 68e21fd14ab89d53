using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>apps/v1 DaemonSet: upstream's defaults, validation causes and `kubectl get` columns.</summary>
public sealed class DaemonSetApiTests : IDisposable
{
    private const string Template = "\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}";

    private static string Ds(string specStart) => """{"metadata":{"name":"agent"},"spec":{""" + specStart + Template + "}}";

    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Create_DefaultsRollingUpdateOneUnavailableNoSurge_AndZeroStatus()
    {
        var ds = await _api.Create(ResourceCatalog.DaemonSets, Ds("\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},"));

        Assert.Equal("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""", ds["spec"]!["updateStrategy"]!.ToJsonString());
        Assert.Equal(10, (int)ds["spec"]!["revisionHistoryLimit"]!);
        Assert.Equal("Always", (string?)ds["spec"]!["template"]!["spec"]!["restartPolicy"]);
        Assert.Equal(1, (int)ds["metadata"]!["generation"]!);
        Assert.Equal(0, (int)ds["status"]!["desiredNumberScheduled"]!);
    }

    [Fact]
    public async Task Invalid_SelectorStrategyRestartPolicy_NamedAsUpstream()
    {
        var causes = await _api.Invalid(ResourceCatalog.DaemonSets, """
            {"metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"other"}},
             "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"0%"}},
             "template":{"metadata":{"labels":{"app":"agent"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i"}]}}}}
            """);

        Assert.Contains(causes, c => c.StartsWith("spec.template.metadata.labels: Invalid value: ", StringComparison.Ordinal) && c.EndsWith("`selector` does not match template `labels`", StringComparison.Ordinal));
        Assert.Contains("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"", causes);
        Assert.Contains("spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"0\": may not be 0 when `maxSurge` is 0", causes);
    }

    [Theory]
    [InlineData("""{"type":"Sometimes"}""", "spec.updateStrategy.type: Unsupported value: \"Sometimes\": supported values: \"OnDelete\", \"RollingUpdate\"")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"120%"}}""", "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxSurge":-1}}""", "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: \"-1\": must be greater than or equal to 0")]
    public async Task Invalid_UpdateStrategy(string strategy, string expected)
    {
        var causes = await _api.Invalid(ResourceCatalog.DaemonSets, Ds("\"selector\":{\"matchLabels\":{\"app\":\"agent\"}},\"updateStrategy\":" + strategy + ","));
        Assert.Contains(expected, causes);
    }

    [Fact]
    public async Task EmptySelector_IsInvalidForDaemonSet()
    {
        var causes = await _api.Invalid(ResourceCatalog.DaemonSets, Ds("\"selector\":{},"));
        Assert.Contains("spec.selector: Invalid value: \"{}\": empty selector is invalid for daemonset", causes);
    }

    [Fact]
    public void Table_ColumnsAsKubectlPrintsThem()
    {
        var ds = JsonNode.Parse("""
            {"metadata":{"name":"agent","creationTimestamp":"2026-01-01T12:00:00Z"},
             "spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"spec":{"nodeSelector":{"disk":"ssd"},"containers":[{"name":"c","image":"busybox:1"}]}}},
             "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,"updatedNumberScheduled":1,"numberAvailable":2}}
            """)!.AsObject();
        var table = TablePrinter.Print(ResourceCatalog.DaemonSets, ds, false, new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

        Assert.Equal(["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers", "Images", "Selector"],
            table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table["rows"]![0]!["cells"]!.AsArray().Select(c => c!.ToString()).ToList();
        Assert.Equal(["agent", "3", "3", "2", "1", "2", "disk=ssd", "0s", "c", "busybox:1", "app=agent"], cells);
    }
}
