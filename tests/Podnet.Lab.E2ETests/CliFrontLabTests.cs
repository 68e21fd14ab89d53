using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A one-node lab for comparing the CLI's NativeAOT front (bin/podnet) with the full CLI (bin/podnet-full).</summary>
public sealed class CliFrontLab() : OneNodeLab("f");

/// <summary>
/// The front (src/Podnet.Front) answers get, apply, exec, lab status and the version by itself;
/// each test runs the same command through it and through the full CLI and asks for the same
/// stdout, stderr and exit code, so the two cannot drift. The front runs with PODNET_FULL_CLI
/// naming a file that does not exist: had it handed the command on, it would have failed with
/// "cannot run", so an equal answer is the front's own.
/// </summary>
public sealed class CliFrontLabTests(CliFrontLab fixture) : IClassFixture<CliFrontLab>
{
    private const string NoFullCli = "/nonexistent/podnet-full";

    private TempLab Lab => fixture.Lab;

    /// <summary>bin/podnet ARGS, unable to hand off when <paramref name="alone"/>.</summary>
    private static ProcessResult Front(bool alone, params string[] args) =>
        ProcessRunner.Run(null, "/usr/bin/env", [.. alone ? [$"PODNET_FULL_CLI={NoFullCli}"] : Array.Empty<string>(), RepoPaths.Bin("podnet"), .. args], timeout: TimeSpan.FromMinutes(2));

    private static ProcessResult Full(params string[] args) =>
        ProcessRunner.Run(null, RepoPaths.Bin("podnet-full"), args, timeout: TimeSpan.FromMinutes(2));

    private static string Show(ProcessResult r) => $"exit {r.ExitCode}\n--- stdout\n{r.StandardOutput}--- stderr\n{r.StandardError}";

    /// <summary>A table's ages (51s, 2m3s, 5h) tick between the two runs (the full CLI takes seconds on a loaded machine): compared as one token.</summary>
    private static string Ageless(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"(?<=\s)\d+[smhdy](\d+[smh])?(?=\s|$)", "<age>", System.Text.RegularExpressions.RegexOptions.Multiline);

    /// <summary>
    /// The same answer from both, ages aside. Objects may change between the two runs (a node's
    /// heartbeat), so a difference is tried again, up to 5 times; a real difference stays.
    /// </summary>
    private static void Same(bool alone, params string[] args)
    {
        string front = "", full = "";
        for (var attempt = 0; attempt < 5; attempt++)
        {
            front = Ageless(Show(Front(alone, args)));
            full = Ageless(Show(Full(args)));
            if (front == full)
            {
                return;
            }
        }
        Assert.Fail($"podnet {string.Join(' ', args)}: the front printed\n{front}\nthe full CLI printed\n{full}");
    }

    private async Task PodAsync()
    {
        var result = fixture.Kubectl("""
            apiVersion: v1
            kind: Pod
            metadata: {name: fr-web, labels: {app: fr}}
            spec:
              containers:
              - {name: c, image: busybox, command: [sleep, '3600'], env: [{name: GREETING, value: hi}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: fr-web}
            spec: {selector: {app: fr}, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: fr-empty}
            """, "apply", "-f", "-");
        Assert.True(result.Success, result.StandardError);
        await Lab.View.WaitForPodAsync("default", "fr-web", p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, TimeSpan.FromSeconds(90));
    }

    [PrivilegedFact]
    public async Task Get_TablesJsonYamlNamesAndErrors_AreTheFullClis()
    {
        await PodAsync();
        string[][] answered =
        [
            ["get", "pods"],
            ["get", "po", "-o", "wide"],
            ["get", "pods", "-A"],
            ["get", "pods", "-l", "app=fr", "-o", "name"],
            ["get", "pod", "fr-web", "-o", "json"],
            ["get", "pod", "fr-web", "-o", "yaml"],
            ["get", "services", "-A", "-o", "yaml"],
            ["get", "svc", "--namespace=kube-system", "-o", "json"],
            ["get", "nodes"],
            ["get", "deployments.apps", "-A", "-o", "wide"],
            ["get", "pods", "-n", "fr-empty"],       // "No resources found in fr-empty namespace."
            ["get", "pod", "nosuch"],                // NotFound, exit 1
            ["get", "nodes", "-o", "name"],
        ];
        foreach (var args in answered)
        {
            Same(alone: true, [.. args, "--lab", Lab.Name]);
        }
        // What the front leaves to the full CLI (a bad flag, an unknown kind, a bad output) reaches it unchanged.
        string[][] handedOff = [["get", "pods", "--bogus"], ["get", "nosuchkind"], ["get", "pods", "-o", "table"], ["get"]];
        foreach (var args in handedOff)
        {
            Same(alone: false, [.. args, "--lab", Lab.Name]);
            var alone = Front(alone: true, [.. args, "--lab", Lab.Name]);
            Assert.Equal(127, alone.ExitCode);
            Assert.Contains($"podnet: cannot run {NoFullCli}", alone.StandardError, StringComparison.Ordinal);
        }
    }

    [PrivilegedFact]
    public void Apply_CreatedUnchangedConfiguredAndErrors_AreTheFullClis()
    {
        var dir = Directory.CreateTempSubdirectory("pn-front-apply-").FullName;
        try
        {
            // Each CLI applies its own ConfigMap (front-…, full-…) through the same steps; the answers, names aside, are the same.
            string File(string who, string value, string? extra = null)
            {
                var path = Path.Combine(dir, $"{who}-{value}.yaml");
                System.IO.File.WriteAllText(path, $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {who}-cm\n  labels: {{app: fr}}\ndata:\n  value: \"{value}\"\n{extra}");
                return path;
            }
            foreach (var value in new[] { "a", "a", "b", "b" })
            {
                var front = Show(Front(true, "apply", "-f", File("front", value), "--lab", Lab.Name)).Replace("front-cm", "X", StringComparison.Ordinal);
                var full = Show(Full("apply", "-f", File("full", value), "--lab", Lab.Name)).Replace("full-cm", "X", StringComparison.Ordinal);
                Assert.Equal(full, front);
            }
            var last = fixture.Kubectl(null, "get", "configmaps", "front-cm", "full-cm", "-o", "jsonpath={.items[*].metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}");
            Assert.True(last.Success, last.StandardError);
            var annotations = last.StandardOutput.Replace("front-cm", "X", StringComparison.Ordinal).Replace("full-cm", "X", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(2, annotations.Length);
            Assert.Equal(annotations[0], annotations[1]);
            // Errors: a manifest without a name, an unknown kind, a file that is not there, a server refusal.
            var noName = Path.Combine(dir, "noname.yaml");
            System.IO.File.WriteAllText(noName, "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n");
            var unknown = Path.Combine(dir, "unknown.yaml");
            System.IO.File.WriteAllText(unknown, "apiVersion: v9\nkind: Gadget\nmetadata: {name: g}\n");
            var refused = Path.Combine(dir, "refused.yaml");
            System.IO.File.WriteAllText(refused, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name}\n");
            var broken = Path.Combine(dir, "broken.yaml");
            System.IO.File.WriteAllText(broken, "apiVersion: v1\nkind: [\n");
            foreach (var file in new[] { noName, unknown, refused, broken })
            {
                Same(alone: true, "apply", "-f", file, "--lab", Lab.Name);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            fixture.Kubectl(null, "delete", "configmap", "front-cm", "full-cm", "--ignore-not-found");
        }
    }

    [PrivilegedFact]
    public async Task Exec_OutputEnvironmentAndExitCodes_AreTheFullClis()
    {
        await PodAsync();
        Same(alone: true, "exec", "--lab", Lab.Name, "fr-web", "--", "sh", "-c", "echo $GREETING $HOSTNAME; cat /etc/hostname; exit 3");
        Same(alone: true, "exec", "--lab", Lab.Name, "fr-web", "-c", "c", "--", "true");
        Same(alone: true, "exec", "--lab", Lab.Name, "fr-web", "--", "sh", "-c", "echo to-stderr >&2; exit 42");
        // SIGPIPE as the full CLI's children get it (ignored: yes fails with EPIPE).
        Same(alone: true, "exec", "--lab", Lab.Name, "fr-web", "--", "sh", "-c", "yes | head -1");
        Same(alone: true, "exec", "--lab", Lab.Name, "--node", "n1", "--", "ip", "-4", "-o", "addr", "show");
        Same(alone: true, "exec", "--lab", Lab.Name, "--outside", "--", "sh", "-c", "exit 7");
        var code = Front(true, "exec", "--lab", Lab.Name, "fr-web", "--", "sh", "-c", "exit 3").ExitCode;
        Assert.Equal(3, code);
        // A pod the lab's records do not name: the full CLI asks the server and says NotFound.
        Same(alone: false, "exec", "--lab", Lab.Name, "nosuch", "--", "true");
        Assert.Contains("Error from server (NotFound): pods \"nosuch\" not found", Front(false, "exec", "--lab", Lab.Name, "nosuch", "--", "true").StandardError, StringComparison.Ordinal);
        // No command: the full CLI's message.
        Same(alone: false, "exec", "--lab", Lab.Name, "fr-web");
    }

    [PrivilegedFact]
    public void LabStatusAndVersion_AreTheFullClis()
    {
        Same(alone: true, "lab", "status", "--name", Lab.Name);
        Same(alone: true, "lab", "status", "--name", Lab.Name, "-o", "json");
        Same(alone: true, "--version");
        Same(alone: true, "version");
        Same(alone: false, "lab", "status", "--name", "nosuchlab9");
        Same(alone: false, "lab", "status", "--name", "Bad_Name");
    }
}
