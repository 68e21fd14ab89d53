using System.Collections.Concurrent;
using Podnet.ApiServer.Tests.Kubectl;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>
/// A user's CRD (widgets.example.com) with the real kubectl: created and Established, served,
/// validated, listed with its printer columns, explained, watched, patched, its status and scale
/// subresources, deleted with its objects.
/// </summary>
public sealed class CrdKubectlTests(ServerFixture server) : KubectlTestBase(server)
{
    [Fact]
    public void Widgets_CreatedServedValidatedListedWatchedPatchedAndDeletedWithTheirObjects()
    {
        var crd = Kubectl.Run("apply", "-f", File("crd.yaml", Widgets.Yaml));
        Assert.True(crd.ExitCode == 0, crd.Error);
        Assert.Equal("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n", crd.Out);
        Assert.Contains("x-kubernetes-validations rule '!has(self.owner) || self.owner.startsWith('a')' is not enforced by Podnet", crd.Error);
        Kubectl.Ok("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s");
        Assert.Contains("widgets", Kubectl.Ok("api-resources", "--api-group=example.com"));

        var ns = Namespace();
        Assert.Equal("widget.example.com/one created\n", Kubectl.Ok("apply", "-n", ns, "-f", File("one.yaml", Widget("one", "size: 3\n    owner: ann"))));

        var bad = Kubectl.Run("apply", "-n", ns, "-f", File("bad.yaml", Widget("bad", "size: 30\n    color: pink")));
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("The Widget \"bad\" is invalid", bad.Error);
        Assert.Contains("spec.size: Invalid value: 30: spec.size in body should be less than or equal to 10", bad.Error);
        Assert.Contains("spec.color: Unsupported value: \"pink\": supported values: \"red\", \"green\", \"blue\"", bad.Error);
        var strict = Kubectl.Run("apply", "-n", ns, "--validate=strict", "-f", File("typo.yaml", Widget("typo", "size: 1\n    sise: 2")));
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains("unknown field \"spec.sise\"", strict.Error);

        var table = Kubectl.Ok("get", "-n", ns, "widgets");
        Assert.Matches(@"^NAME\s+SIZE\s+COLOR\s+PHASE\n", table);
        Assert.Matches(@"\none\s+3\s+red\s+\n", table);
        Assert.Matches(@"^NAME\s+SIZE\s+COLOR\s+PHASE\s+OWNER\n", Kubectl.Ok("get", "-n", ns, "wd", "-o", "wide"));
        var explained = Kubectl.Ok("explain", "widgets.spec");
        Assert.Contains("size", explained);
        Assert.Contains("<integer>", explained);

        using var watch = Kubectl.Start(["get", "-n", ns, "widgets", "-w", "--output-watch-events", "--request-timeout=60s"]);
        var lines = new ConcurrentQueue<string>();
        watch.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Enqueue(e.Data);
            }
        };
        watch.BeginOutputReadLine();
        try
        {
            Assert.True(WaitFor(() => lines.Any(l => l.Contains("one", StringComparison.Ordinal))), string.Join("\n", lines));
            Assert.Equal("widget.example.com/one patched\n", Kubectl.Ok("patch", "-n", ns, "widget", "one", "--type=merge", "-p", """{"spec":{"size":5}}"""));
            Assert.True(WaitFor(() => lines.Any(l => l.StartsWith("MODIFIED", StringComparison.Ordinal) && l.Contains(" 5 ", StringComparison.Ordinal))), string.Join("\n", lines));
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            watch.WaitForExit();
        }

        Kubectl.Ok("patch", "-n", ns, "widget", "one", "--type=json", "-p", """[{"op":"replace","path":"/spec/color","value":"blue"}]""");
        Kubectl.Ok("patch", "-n", ns, "widget", "one", "--subresource=status", "--type=merge", "-p", """{"status":{"phase":"Ready","replicas":2},"spec":{"size":9}}""");
        Assert.Equal("5 blue Ready", Kubectl.Ok("get", "-n", ns, "widget", "one", "-o", "jsonpath={.spec.size} {.spec.color} {.status.phase}"));
        Kubectl.Ok("scale", "-n", ns, "widget", "one", "--replicas=4");
        Assert.Equal("4", Kubectl.Ok("get", "-n", ns, "widget", "one", "-o", "jsonpath={.spec.replicas}"));
        var applied = Kubectl.Run("apply", "--server-side", "-n", ns, "-f", File("ssa.yaml", Widget("two", "size: 2")));
        Assert.True(applied.ExitCode == 0, applied.Error);
        Assert.Equal("example.com/v1beta1", Kubectl.Ok("get", "-n", ns, "widgets.v1beta1.example.com", "two", "-o", "jsonpath={.apiVersion}"));

        Assert.Equal("customresourcedefinition.apiextensions.k8s.io \"widgets.example.com\" deleted\n", Kubectl.Ok("delete", "crd", "widgets.example.com"));
        var gone = Kubectl.Run("get", "-n", ns, "widgets");
        Assert.NotEqual(0, gone.ExitCode);
        // kubectl names the resource it could not find (from its discovery cache: "Unable to list …widgets"; fresh: "doesn't have a resource type").
        Assert.Contains("widgets", gone.Error);
        // Created again, the definition serves nothing of the old objects.
        Kubectl.Ok("apply", "-f", File("crd.yaml", Widgets.Yaml));
        Assert.Equal("", Kubectl.Ok("get", "-n", ns, "widgets", "-o", "name"));
        Kubectl.Ok("delete", "crd", "widgets.example.com");
    }

    private static string Widget(string name, string spec) => $"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n    {spec}\n";

    private static bool WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        return condition();
    }
}
