using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// NetworkPolicy over the upstream model in a three-node lab: each case's policies applied
/// through the API, then every ordered pair of the nine pods probed on TCP and UDP 80 and 81
/// with real connections to the pod addresses and compared with what the case expects
/// (changes must take effect within a second; a mismatch is probed once more, as upstream).
/// </summary>
public sealed class PolicyModelTests(PolicyLabFixture fixture) : IClassFixture<PolicyLabFixture>
{
    public static IEnumerable<object[]> Cases => PolicyCases.All.Select(c => new object[] { c.Name });

    [PrivilegedTheory]
    [MemberData(nameof(Cases))]
    public async Task Case(string name)
    {
        var model = fixture.Model;
        var policyCase = PolicyCases.All.Single(c => c.Name == name);
        await model.ResetAsync();
        try
        {
            for (var i = 0; i < policyCase.Steps.Length; i++)
            {
                var step = policyCase.Steps[i];
                await step.Act(model);
                await Task.Delay(TimeSpan.FromSeconds(1));
                var observed = await model.ProbeAsync();
                if (Mismatches(step.Expect, observed) > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    observed = await model.ProbeAsync();
                }
                var wrong = Mismatches(step.Expect, observed);
                Assert.True(wrong == 0, $"{name}, step {i + 1}: {wrong} probes differ{PolicyModel.Describe(step.Expect, observed)}");
            }
        }
        finally
        {
            await model.ResetAsync();
        }
    }

    [PrivilegedFact]
    public async Task Drops_AreCountedPerPodAndDirection_WithTheIsolatingPolicies()
    {
        var model = fixture.Model;
        await model.ResetAsync();
        try
        {
            await model.ApplyAsync(PolicyCases.Np("x", "deny-a", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Ingress]"));
            await Task.Delay(TimeSpan.FromSeconds(1));
            await model.ProbeAsync();
            var file = Path.Combine("/var/lib/podnet/labs", fixture.LabName, "nodes", model.Node("x/a"), Podnet.Agent.Policy.PolicyDrops.FileName);
            System.Text.Json.Nodes.JsonNode? json = null;
            long Drops() => json?["counts"]?.AsArray().Where(c => (string)c!["pod"]! == "x/a" && (string)c["direction"]! == "ingress").Sum(c => (long)c!["drops"]!) ?? 0;
            for (var i = 0; i < 50 && Drops() < 8 * 4; i++)
            {
                await Task.Delay(100);
                json = File.Exists(file) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file)) : null;
            }
            Assert.NotNull(json);
            var count = json["counts"]!.AsArray().Single(c => (string)c!["pod"]! == "x/a" && (string)c["direction"]! == "ingress");
            // Every other pod tried x/a on four ports: at least one drop each (TCP retransmits add more).
            Assert.True((long)count!["drops"]! >= 8 * 4, json.ToJsonString());
            var recent = json["recent"]!.AsArray().Last(r => (string)r!["pod"]! == "x/a")!;
            Assert.Equal(["x/deny-a"], recent["policies"]!.AsArray().Select(p => (string)p!));
            Assert.Contains((string)recent["peer"]!, PolicyModel.Keys);
            var shown = fixture.Run("policy", "drops", "-n", "x", "--lab", fixture.LabName);
            Assert.True(shown.Success, shown.StandardError);
            Assert.Matches(@"x/a\s+ingress\s+\d+", shown.StandardOutput);
            Assert.Contains("isolated by x/deny-a", shown.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("y/", shown.StandardOutput.Split("RECENT")[0], StringComparison.Ordinal);
        }
        finally
        {
            await model.ResetAsync();
        }
    }

    [PrivilegedFact]
    public async Task PolicyCheck_ExplainsTheRuleThatAllows_AndTheIsolationThatDenies()
    {
        var model = fixture.Model;
        await model.ResetAsync();
        try
        {
            await model.ApplyAsync(PolicyCases.Np("x", "a-from-b", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{podSelector: {matchLabels: {pod: b}}}], ports: [{port: serve-81-udp, protocol: UDP}]}]"));
            var allowed = fixture.Run("policy", "check", "x/b", "x/a", "--port", "81/udp", "--lab", fixture.LabName);
            Assert.True(allowed.Success, allowed.StandardError);
            Assert.Contains("x/b -> x/a: allowed", allowed.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("allowed by x/a-from-b ingress[0]", allowed.StandardOutput, StringComparison.Ordinal);
            var denied = fixture.Run("policy", "check", "x/b", "x/a", "--port", "80/tcp", "--lab", fixture.LabName);
            Assert.Contains("x/b -> x/a: denied (drop)", denied.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("isolated by x/a-from-b; no rule of these policies allows it", denied.StandardOutput, StringComparison.Ordinal);
            // What check says is what the data path does.
            await Task.Delay(TimeSpan.FromSeconds(1));
            var observed = await model.ProbeAsync();
            Assert.True(observed[("x/b", "x/a", new ModelPort(81, "udp"))]);
            Assert.False(observed[("x/b", "x/a", new ModelPort(80, "tcp"))]);
        }
        finally
        {
            await model.ResetAsync();
        }
    }

    private static int Mismatches(Func<string, string, ModelPort, bool> expect, Dictionary<(string From, string To, ModelPort Port), bool> observed) =>
        observed.Count(o => expect(o.Key.From, o.Key.To, o.Key.Port) != o.Value);
}

/// <summary>A lab with the model's namespaces and pods, made once for the class; the lab goes down also when a case fails.</summary>
public sealed class PolicyLabFixture : IAsyncLifetime
{
    private readonly LabFixture _lab = new();
    private PolicyModel? _model;

    public string LabName => _lab.Name;

    public ProcessResult Run(params string[] arguments) => _lab.Run(arguments);

    public PolicyModel Model => _model ?? throw new InvalidOperationException("the model was not made (no privileges?)");

    public async Task InitializeAsync()
    {
        await _lab.InitializeAsync();
        if (Privileges.CanMakeNamespaces)
        {
            try
            {
                _model = await PolicyModel.CreateAsync(_lab);
            }
            catch
            {
                await _lab.DisposeAsync();
                throw;
            }
        }
    }

    public async Task DisposeAsync()
    {
        _model?.Dispose();
        await _lab.DisposeAsync();
    }
}
