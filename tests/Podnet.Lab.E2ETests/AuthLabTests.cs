using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A one-node lab for identities: each pod's own bound ServiceAccount token, RBAC on it, the admin's certificate.</summary>
public sealed class AuthLab : IDisposable
{
    private readonly TempLab _lab = new("a");

    public AuthLab()
    {
        if (Privileges.CanMakeNamespaces)
        {
            try
            {
                _lab.Up("--nodes", "1");
            }
            catch
            {
                _lab.Dispose();
                throw;
            }
        }
    }

    internal TempLab Lab => _lab;

    public void Dispose() => _lab.Dispose();
}

public sealed class AuthLabTests(AuthLab fixture) : IClassFixture<AuthLab>
{
    private TempLab Lab => fixture.Lab;

    private string Kubeconfig => (string)Lab.Status["kubeconfig"]!;

    private ProcessResult Kubectl(string? stdin, params string[] args) =>
        ProcessRunner.Run(null, "kubectl", ["--kubeconfig", Kubeconfig, .. args], standardInput: stdin, timeout: TimeSpan.FromSeconds(60));

    /// <summary>kubectl with only a bearer token (no kubeconfig user), against the lab's API server.</summary>
    private ProcessResult KubectlWithToken(string token, params string[] args)
    {
        var server = Kubectl(null, "config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}").StandardOutput;
        var ca = Kubectl(null, "config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}").StandardOutput;
        var caFile = Path.Combine(Path.GetTempPath(), $"podnet-e2e-ca-{Lab.Name}.crt");
        File.WriteAllBytes(caFile, Convert.FromBase64String(ca));
        return ProcessRunner.Run(null, "kubectl", ["--kubeconfig", "/dev/null", "--server", server, "--certificate-authority", caFile, "--token", token, .. args], timeout: TimeSpan.FromSeconds(60));
    }

    private string Exec(string pod, string script)
    {
        var r = Lab.Run(["exec", "--lab", Lab.Name, pod, "--", "sh", "-c", script]);
        return r.StandardOutput + r.StandardError;
    }

    private Task<V1Pod> ReadyAsync(string name) => Lab.View.WaitForPodAsync("default", name,
        p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, TimeSpan.FromSeconds(90));

    [PrivilegedFact]
    public async Task PodsMountedToken_IsItsOwnBoundServiceAccountToken_ThatCannotListNodes()
    {
        var apply = Kubectl("""
            apiVersion: v1
            kind: Pod
            metadata: {name: who}
            spec:
              containers:
              - {name: c, image: busybox, command: [sleep, '3600']}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: nomount}
            spec:
              automountServiceAccountToken: false
              containers:
              - {name: c, image: busybox, command: [sleep, '3600']}
            """, "apply", "-f", "-");
        Assert.True(apply.Success, apply.StandardError);
        await ReadyAsync("who");
        await ReadyAsync("nomount");
        var token = Exec("who", "cat /var/run/secrets/kubernetes.io/serviceaccount/token").Trim();
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        var claims = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '='))))!;
        Assert.Equal("system:serviceaccount:default:default", (string?)claims["sub"]);
        Assert.Equal("who", (string?)claims["kubernetes.io"]!["pod"]!["name"]);
        var nodes = KubectlWithToken(token, "get", "nodes");
        Assert.Contains("Error from server (Forbidden): nodes is forbidden: User \"system:serviceaccount:default:default\" cannot list resource \"nodes\" in API group \"\" at the cluster scope", nodes.StandardError);
        Assert.Matches(@"Username\s+system:serviceaccount:default:default", KubectlWithToken(token, "auth", "whoami").StandardOutput);
        Assert.Equal("no\n", KubectlWithToken(token, "auth", "can-i", "delete", "nodes").StandardOutput);
        Assert.Equal("absent", Exec("nomount", "test -e /var/run/secrets/kubernetes.io/serviceaccount/token && echo present || echo absent").Trim());
        // The admin kubeconfig (a client certificate in system:masters) still does everything.
        Assert.Contains("kubernetes-admin", Kubectl(null, "auth", "whoami").StandardOutput);
        Assert.True(Kubectl(null, "get", "nodes").Success);
        // Deleting the pod revokes its token.
        Assert.True(Kubectl(null, "delete", "pod", "who", "--grace-period=0", "--force").Success);
        Assert.Contains("Unauthorized", KubectlWithToken(token, "get", "pods").StandardError);
    }
}
