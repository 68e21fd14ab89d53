using k8s;
using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>
/// The real kubectl on StatefulSets, PodDisruptionBudgets and `drain` against the server alone
/// (no controllers, no agents: the tests write the statuses those would write).
/// </summary>
public sealed class StatefulKindsKubectlTests(ServerFixture server) : KubectlTestBase(server)
{
    private const string Set = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          replicas: 2
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers: [{name: db, image: agnhost:2.39}]
        """;

    [Fact]
    public void ApplyGetAndScale_StatefulSet_WithUpstreamsColumns_AndVolumeClaimsRefused()
    {
        var ns = Namespace();
        Assert.Equal("statefulset.apps/db created\n", Kubectl.Ok("apply", "-n", ns, "-f", File("sts.yaml", Set)));
        Assert.Matches(@"^NAME\s+READY\s+AGE\ndb\s+0/2\s+\d+s\n$", Kubectl.Ok("get", "sts", "-n", ns));
        Assert.Equal("statefulset.apps/db scaled\n", Kubectl.Ok("scale", "sts/db", "-n", ns, "--replicas=3"));
        Assert.Equal("3 OrderedReady", Kubectl.Ok("get", "sts", "db", "-n", ns, "-o", "jsonpath={.spec.replicas} {.spec.podManagementPolicy}"));

        var withClaims = Set.Replace("name: db}", "name: db2}", StringComparison.Ordinal) + "\n  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce]}}]\n";
        var claims = Kubectl.Run("apply", "-n", ns, "-f", File("claims.yaml", withClaims));
        Assert.NotEqual(0, claims.ExitCode);
        Assert.Contains("spec.volumeClaimTemplates: Forbidden: volume claims are not supported in the Podnet lab", claims.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void CreatePdb_SentAsProtobuf_ShowsUpstreamsColumns()
    {
        var ns = Namespace();
        Assert.Equal("poddisruptionbudget.policy/b created\n", Kubectl.Ok("create", "pdb", "b", "-n", ns, "--selector=app=db", "--min-available=50%"));
        Assert.Matches(@"^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nb\s+50%\s+N/A\s+0\s+\d+s\n$", Kubectl.Ok("get", "pdb", "-n", ns));
        Assert.Equal("db 50%", Kubectl.Ok("get", "pdb", "b", "-n", ns, "-o", "jsonpath={.spec.selector.matchLabels.app} {.spec.minAvailable}"));
    }

    [Fact]
    public async Task Drain_RefusedByTheBudget_ThenEvicts_OnceItAllowsOne()
    {
        var ns = Namespace();
        var node = "drain-" + Guid.NewGuid().ToString("N")[..6];
        var client = Server.Client;
        await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = node } });
        var pod = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "db-0", Labels = new Dictionary<string, string> { ["app"] = "db" } },
            Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "db", Image = "agnhost:2.39" }] },
        }, ns);
        pod.Status.Phase = "Running";
        pod.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }];
        await client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, "db-0", ns);
        Kubectl.Ok("create", "pdb", "b", "-n", ns, "--selector=app=db", "--min-available=1");
        async Task Status(int allowed)
        {
            var budget = await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync("b", ns);
            budget.Status = new V1PodDisruptionBudgetStatus { ObservedGeneration = budget.Metadata.Generation, DisruptionsAllowed = allowed, CurrentHealthy = 1, DesiredHealthy = 1 - allowed, ExpectedPods = 1 };
            await client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetStatusAsync(budget, "b", ns);
        }
        await Status(0);

        // --force: the pod has no controller here; --grace-period=0: no agent will finish a graceful deletion.
        var refused = Kubectl.Run("drain", node, "--pod-selector=app=db", "--force", "--grace-period=0", "--timeout=7s");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", refused.Error, StringComparison.Ordinal);
        Assert.Equal("true", Kubectl.Ok("get", "node", node, "-o", "jsonpath={.spec.unschedulable}"));
        Assert.Equal(pod.Metadata.Uid, (await client.CoreV1.ReadNamespacedPodAsync("db-0", ns)).Metadata.Uid);

        await Status(1);
        var drained = Kubectl.Run("drain", node, "--pod-selector=app=db", "--force", "--grace-period=0", "--timeout=30s");
        Assert.True(drained.ExitCode == 0, drained.Error);
        Assert.Contains("pod/db-0 evicted", drained.Out, StringComparison.Ordinal);
        var budgetAfter = JsonNode.Parse(Kubectl.Ok("get", "pdb", "b", "-n", ns, "-o", "json"))!;
        Assert.Equal(0, (int)budgetAfter["status"]!["disruptionsAllowed"]!);
        Assert.NotNull(budgetAfter["status"]!["disruptedPods"]!["db-0"]);
        Assert.Equal($"node/{node} uncordoned\n", Kubectl.Ok("uncordon", node));
    }
}
