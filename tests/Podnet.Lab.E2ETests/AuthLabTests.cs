using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A one-node lab for identities: each pod's own bound ServiceAccount token, RBAC on it, the admin's certificate.</summary>
public sealed class AuthLab() : OneNodeLab("a");

public sealed class AuthLabTests(AuthLab fixture) : IClassFixture<AuthLab>
{
    private TempLab Lab => fixture.Lab;

    private string Kubeconfig => fixture.Kubeconfig;

    private ProcessResult Kubectl(string? stdin, params string[] args) => fixture.Kubectl(stdin, args);

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

    /// <summary>The names the agent-certificate test reaches for on purpose (its 403s are expected, all others are not).</summary>
    private const string GhostNode = "ghost-node";
    private const string GhostPod = "ghost-pod";

    private string LabDirectory => Path.GetDirectoryName(Path.GetDirectoryName(Kubeconfig)!)!;

    /// <summary>The lab's one node (not the ghost Node a test adds).</summary>
    private string NodeName => Kubectl(null, "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}").StandardOutput
        .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).First(n => n != GhostNode);

    /// <summary>
    /// kubectl with the agent's own kubeconfig (its client certificate), pointed at the API
    /// server's loopback listener: the fabric address it names is reachable only inside the lab.
    /// </summary>
    private ProcessResult KubectlAsAgent(string? stdin, params string[] args)
    {
        var server = Kubectl(null, "config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}").StandardOutput.Trim();
        var text = File.ReadAllLines(Path.Combine(LabDirectory, "cp", $"kubeconfig-node-{NodeName}"))
            .Select(l => l.TrimStart().StartsWith("server: ", StringComparison.Ordinal) ? l[..l.IndexOf("server: ", StringComparison.Ordinal)] + "server: " + server : l);
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"podnet-e2e-agent-{Lab.Name}.kubeconfig");
        File.WriteAllLines(kubeconfig, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(kubeconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite); // it holds the node's key
        }
        return ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. args], standardInput: stdin, timeout: TimeSpan.FromSeconds(60));
    }

    [PrivilegedFact]
    public void AgentCertificate_CannotModifyAnotherNodeOrPodBoundElsewhere_UpdatesItsOwnNodeStatus()
    {
        var node = NodeName;
        Assert.Matches($@"Username\s+system:node:{node}", KubectlAsAgent(null, "auth", "whoami").StandardOutput);
        Assert.Matches(@"Groups\s+\[system:nodes system:authenticated\]", KubectlAsAgent(null, "auth", "whoami").StandardOutput);
        // A Node no agent runs, and a pod bound to it (it stays Pending).
        Assert.True(Kubectl($$"""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"{{GhostNode}}"} }
            """, "apply", "-f", "-").Success);
        Assert.True(Kubectl($$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{GhostPod}}","namespace":"default"},"spec":{"nodeName":"{{GhostNode}}","containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}]} }
            """, "apply", "-f", "-").Success);
        var label = KubectlAsAgent(null, "label", "node", GhostNode, "podnet.test/x=y");
        Assert.Contains($"nodes \"{GhostNode}\" is forbidden: node \"{node}\" is not allowed to modify node \"{GhostNode}\"", label.StandardError);
        var deleteNode = KubectlAsAgent(null, "delete", "node", GhostNode, "--wait=false");
        Assert.Contains($"User \"system:node:{node}\" cannot delete resource \"nodes\"", deleteNode.StandardError);
        var deletePod = KubectlAsAgent(null, "delete", "pod", GhostPod, "--wait=false");
        Assert.Contains($"pods \"{GhostPod}\" is forbidden: node \"{node}\" can only delete pods with spec.nodeName set to itself", deletePod.StandardError);
        Assert.Contains("can only update pod status for pods with spec.nodeName set to itself",
            ReplaceStatus($"/api/v1/namespaces/default/pods/{GhostPod}/status", Kubectl(null, "get", "pod", GhostPod, "-o", "json").StandardOutput).StandardError);
        Assert.Contains($"is not allowed to modify node \"{GhostNode}\"",
            ReplaceStatus($"/api/v1/nodes/{GhostNode}/status", Kubectl(null, "get", "node", GhostNode, "-o", "json").StandardOutput).StandardError);
        // Its own Node's status: a PUT of the Node as it is (the agent keeps writing it, so unconditionally).
        var own = ReplaceStatus($"/api/v1/nodes/{node}/status", KubectlAsAgent(null, "get", "node", node, "-o", "json").StandardOutput);
        Assert.True(own.Success, own.StandardError);
        Assert.True(Kubectl(null, "delete", "pod", GhostPod, "--grace-period=0", "--force").Success);
        Assert.True(Kubectl(null, "delete", "node", GhostNode).Success);
    }

    /// <summary>PUT of <paramref name="json"/> (without its resourceVersion) to a status path, as the agent.</summary>
    private ProcessResult ReplaceStatus(string path, string json)
    {
        var obj = JsonNode.Parse(json)!.AsObject();
        obj["metadata"]!.AsObject().Remove("resourceVersion");
        return KubectlAsAgent(obj.ToJsonString(), "replace", "--raw", path, "-f", "-");
    }

    [PrivilegedFact]
    public async Task Components_GetNo403_ThroughServicePolicyLoadBalancerAndPodChurn()
    {
        var apply = Kubectl("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: churn}
            spec:
              replicas: 2
              selector: {matchLabels: {app: churn}}
              template:
                metadata: {labels: {app: churn}}
                spec:
                  containers:
                  - {name: web, image: agnhost, ports: [{containerPort: 8080}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: churn}
            spec:
              type: LoadBalancer
              selector: {app: churn}
              ports: [{port: 80, targetPort: 8080}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: churn}
            spec:
              podSelector: {matchLabels: {app: churn}}
              ingress: [{from: [{podSelector: {}}]}]
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: churn-config}
            data: {k: v}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: churn-volumes}
            spec:
              containers:
              - {name: c, image: busybox, command: [sleep, '3600'], envFrom: [{configMapRef: {name: churn-config}}]}
            """, "apply", "-f", "-");
        Assert.True(apply.Success, apply.StandardError);
        Assert.True(Kubectl(null, "rollout", "status", "deployment/churn", "--timeout=120s").Success);
        await ReadyAsync("churn-volumes");
        // Churn: every pod replaced, then scaled up and down.
        Assert.True(Kubectl(null, "delete", "pods", "-l", "app=churn", "--wait=false").Success);
        Assert.True(Kubectl(null, "scale", "deployment/churn", "--replicas=3").Success);
        Assert.True(Kubectl(null, "rollout", "status", "deployment/churn", "--timeout=120s").Success);
        Assert.True(Kubectl(null, "scale", "deployment/churn", "--replicas=1").Success);
        Assert.True(Kubectl(null, "rollout", "status", "deployment/churn", "--timeout=120s").Success);
        var ingress = "";
        for (var i = 0; i < 120 && ingress.Length == 0; i++)
        {
            ingress = Kubectl(null, "get", "service", "churn", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").StandardOutput.Trim();
            if (ingress.Length == 0)
            {
                await Task.Delay(500);
            }
        }
        Assert.NotEqual("", ingress);
        var log = File.ReadAllLines(Path.Combine(LabDirectory, "logs", "control-plane.log"));
        var denied = log.Where(l => l.Contains("podnet server: forbidden: user=", StringComparison.Ordinal))
            .Where(l => l.Contains("user=system:node:", StringComparison.Ordinal) || l.Contains("user=system:kube-controller-manager ", StringComparison.Ordinal) || l.Contains("user=system:serviceaccount:kube-system:kube-dns ", StringComparison.Ordinal))
            .Where(l => !l.Contains($"name={GhostNode}", StringComparison.Ordinal) && !l.Contains($"name={GhostPod}", StringComparison.Ordinal))
            .ToList();
        Assert.True(denied.Count == 0, "components were denied:\n" + string.Join("\n", denied));
        Assert.Contains(log, l => l.Contains("podnet server: listening", StringComparison.Ordinal)); // the log read is the server's
        Assert.True(Kubectl(null, "delete", "deployment,service,networkpolicy", "churn").Success);
        Assert.True(Kubectl(null, "delete", "pod", "churn-volumes", "--grace-period=0", "--force").Success);
    }
}
