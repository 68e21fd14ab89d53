using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class TableTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-01-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(5, "5s")]
    [InlineData(119, "119s")]
    [InlineData(330, "5m30s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600 + 60, "3h1m")]
    [InlineData(30 * 3600, "30h")]
    [InlineData(3 * 86400 + 3600, "3d1h")]
    [InlineData(100 * 86400, "100d")]
    public void HumanDuration_AsKubectl(int seconds, string expected) =>
        Assert.Equal(expected, TablePrinter.HumanDuration(TimeSpan.FromSeconds(seconds)));

    private static List<string> Headers(JsonObject table) => table["columnDefinitions"]!.AsArray().Select(c => (string)c!["name"]!).ToList();

    private static List<string?> Row(JsonObject table) => table["rows"]![0]!["cells"]!.AsArray().Select(c => c?.ToString()).ToList();

    [Fact]
    public void Pods_ColumnsAndCells()
    {
        var pod = JsonNode.Parse("""
            {"metadata":{"name":"web-1","creationTimestamp":"2026-01-01T11:59:00Z"},
             "spec":{"nodeName":"n1","containers":[{"name":"a"},{"name":"b"}]},
             "status":{"phase":"Running","podIP":"10.244.1.5","containerStatuses":[{"name":"a","ready":true,"restartCount":2},{"name":"b","ready":false,"restartCount":1}]}}
            """)!.AsObject();
        var table = TablePrinter.Print(ResourceCatalog.Pods, pod, false, Now);
        Assert.Equal(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"], Headers(table));
        Assert.Equal(["web-1", "1/2", "Running", "3", "60s", "10.244.1.5", "n1", "<none>", "<none>"], Row(table));
        Assert.Equal(1, (int)table["columnDefinitions"]![5]!["priority"]!);
    }

    [Fact]
    public void Services_ColumnsAndCells()
    {
        var list = JsonNode.Parse("""
            {"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"web","creationTimestamp":"2026-01-01T10:00:00Z"},
             "spec":{"type":"NodePort","clusterIP":"10.96.3.4","selector":{"app":"web"},"ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}]}}]}
            """)!.AsObject();
        var table = TablePrinter.Print(ResourceCatalog.Services, list, false, Now);
        Assert.Equal(["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"], Headers(table));
        Assert.Equal(["web", "NodePort", "10.96.3.4", "<none>", "80:30080/TCP,53/UDP", "120m", "app=web"], Row(table));
        Assert.Equal("9", (string?)table["metadata"]!["resourceVersion"]);
    }

    [Theory]
    [InlineData("""{"type":"LoadBalancer"}""", "", "<pending>")]
    [InlineData("""{"type":"LoadBalancer"}""", """{"loadBalancer":{"ingress":[{"ip":"172.18.0.200"},{"ip":"fd00:172:18::200"}]}}""", "172.18.0.200,fd00:172:18::200")]
    [InlineData("""{"type":"LoadBalancer","externalIPs":["172.18.0.150"]}""", "", "172.18.0.150")]
    [InlineData("""{"type":"LoadBalancer","externalIPs":["172.18.0.150"]}""", """{"loadBalancer":{"ingress":[{"ip":"172.18.0.200"}]}}""", "172.18.0.200,172.18.0.150")]
    [InlineData("""{"type":"ClusterIP","externalIPs":["172.18.0.150","172.18.0.151"]}""", "", "172.18.0.150,172.18.0.151")]
    [InlineData("""{"type":"NodePort"}""", """{"loadBalancer":{"ingress":[{"ip":"172.18.0.200"}]}}""", "<none>")]
    public void Services_ExternalIP_AsKubectl(string spec, string status, string expected)
    {
        var withStatus = status.Length > 0 ? ",\"status\":" + status : "";
        var service = JsonNode.Parse($$"""{"metadata":{"name":"lb","creationTimestamp":"2026-01-01T12:00:00Z"},"spec":{{spec}}{{withStatus}}}""")!.AsObject();
        Assert.Equal(expected, Row(TablePrinter.Print(ResourceCatalog.Services, service, false, Now))[3]);
    }

    [Fact]
    public void Deployments_ReadyColumn()
    {
        var d = JsonNode.Parse("""{"metadata":{"name":"d","creationTimestamp":"2026-01-01T12:00:00Z"},"spec":{"replicas":3},"status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}}""")!.AsObject();
        var row = Row(TablePrinter.Print(ResourceCatalog.Deployments, d, false, Now));
        Assert.Equal(["d", "2/3", "3", "2", "0s"], row.Take(5));
    }
}
