using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

public sealed partial class KubectlTests : KubectlTestBase
{
    private static readonly string Web = WebDeployment + "\n---\n" + WebService("[{port: 80, targetPort: 8080}]");

    public KubectlTests(ServerFixture server)
        : base(server)
    {
    }

    private static string[] Header(string table) => Spaces().Split(table.Split('\n')[0].Trim());

    [Fact]
    public void Create_ThenApplyTwice_CreatedUnchangedConfigured()
    {
        var ns = Namespace();
        var file = File("web.yaml", Web);
        Assert.Equal("deployment.apps/web created\nservice/web created\n", Kubectl.Ok("create", "-n", ns, "-f", file));
        var adopt = Kubectl.Run("apply", "-n", ns, "-f", file);
        Assert.Equal("deployment.apps/web configured\nservice/web configured\n", adopt.Out);
        Assert.Contains("missing the kubectl.kubernetes.io/last-applied-configuration annotation", adopt.Error);
        Assert.Equal("deployment.apps/web unchanged\nservice/web unchanged\n", Kubectl.Ok("apply", "-n", ns, "-f", file));
        File("web.yaml", Web.Replace("replicas: 2", "replicas: 4").Replace("value: \"1\"", "value: \"2\""));
        Assert.Equal("deployment.apps/web configured\nservice/web unchanged\n", Kubectl.Ok("apply", "-n", ns, "-f", file));
        var deployment = JsonNode.Parse(Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "json"))!;
        Assert.Equal(4, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("2", (string?)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]![0]!["value"]);
        Assert.Equal(8080, (int)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
    }

    [Fact]
    public void Apply_New_SaysCreated()
    {
        var ns = Namespace();
        Assert.Equal("deployment.apps/web created\nservice/web created\n", Kubectl.Ok("apply", "-n", ns, "-f", File("apply-new.yaml", Web)));
    }

    [Fact]
    public void Get_DefaultAndWideColumns_JsonAndYaml()
    {
        var ns = Namespace();
        Kubectl.Ok("apply", "-n", ns, "-f", File("cols.yaml", Web));
        Kubectl.Ok("run", "-n", ns, "p1", "--image=nginx");
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE"], Header(Kubectl.Ok("get", "-n", ns, "pods")));
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"], Header(Kubectl.Ok("get", "-n", ns, "pods", "-o", "wide")));
        Assert.Matches(@"\np1\s+0/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>", Kubectl.Ok("get", "-n", ns, "pods", "-o", "wide"));
        var services = Kubectl.Ok("get", "-n", ns, "services");
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], Header(services));
        Assert.Matches(@"\nweb\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80/TCP\s+\d+s", services);
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"], Header(Kubectl.Ok("get", "-n", ns, "services", "-o", "wide")));
        Assert.Equal(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], Header(Kubectl.Ok("get", "-n", ns, "deployments")));
        var json = JsonNode.Parse(Kubectl.Ok("get", "-n", ns, "service", "web", "-o", "json"))!;
        Assert.Equal("Service", (string?)json["kind"]);
        Assert.Equal(8080, (int)json["spec"]!["ports"]![0]!["targetPort"]!);
        var list = JsonNode.Parse(Kubectl.Ok("get", "-n", ns, "pods", "-o", "json"))!;
        Assert.Equal("List", (string?)list["kind"]);
        Assert.Contains("kind: Service", Kubectl.Ok("get", "-n", ns, "service", "web", "-o", "yaml"));
        var missing = Kubectl.Run("get", "-n", ns, "pod", "nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("Error from server (NotFound): pods \"nope\" not found", missing.Error);
    }

    [Fact]
    public void Label_Scale_DeleteWithCascade()
    {
        var ns = Namespace();
        Kubectl.Ok("apply", "-n", ns, "-f", File("scale.yaml", Web));
        Assert.Equal("deployment.apps/web labeled\n", Kubectl.Ok("label", "-n", ns, "deployment", "web", "tier=front"));
        Assert.Contains("web", Kubectl.Ok("get", "-n", ns, "deployments", "-l", "tier=front", "-o", "name"));
        Assert.Equal("", Kubectl.Ok("get", "-n", ns, "deployments", "-l", "tier=back", "-o", "name"));
        Assert.Equal("deployment.apps/web scaled\n", Kubectl.Ok("scale", "-n", ns, "deployment", "web", "--replicas=5"));
        Assert.Equal("5", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));
        var uid = Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.metadata.uid}");
        Kubectl.Ok("create", "-n", ns, "-f", File("rs.json", ReplicaSet(uid)));
        Assert.Equal("deployment.apps \"web\" deleted\n", Kubectl.Ok("delete", "-n", ns, "deployment", "web"));
        Assert.Equal("", Kubectl.Ok("get", "-n", ns, "replicasets", "-o", "name"));

        Kubectl.Ok("apply", "-n", ns, "-f", File("scale.yaml", Web));
        uid = Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.metadata.uid}");
        Kubectl.Ok("create", "-n", ns, "-f", File("rs.json", ReplicaSet(uid)));
        Kubectl.Ok("delete", "-n", ns, "deployment", "web", "--cascade=orphan");
        Assert.Equal("replicaset.apps/web-1\n", Kubectl.Ok("get", "-n", ns, "replicasets", "-o", "name"));
    }

    private static string ReplicaSet(string ownerUid) => $$$$$"""
        {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-1","ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"{{{{{ownerUid}}}}}","controller":true}]},
         "spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"x"}]}}}}
        """;

    [Fact]
    public void InvalidObject_IsRejected_NamingTheField()
    {
        var ns = Namespace();
        var bad = File("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 70000}]\n");
        var result = Kubectl.Run("apply", "-n", ns, "-f", bad);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("The Service \"bad\" is invalid", result.Error);
        Assert.Contains("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive", result.Error);
        Assert.Equal("", Kubectl.Ok("get", "-n", ns, "services", "-o", "name"));
    }

    [Fact]
    public void GetWatch_SeesChangesMadeByAnotherProcess()
    {
        var ns = Namespace();
        using var watch = Kubectl.Start(["get", "-n", ns, "configmaps", "-w", "--request-timeout=30s"]);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
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
            Thread.Sleep(1000);
            Kubectl.Ok("create", "-n", ns, "-f", File("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: b, c: d}\n"));
            Kubectl.Ok("label", "-n", ns, "configmap", "watched", "x=y");
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (lines.Count(l => l.StartsWith("watched", StringComparison.Ordinal)) < 2 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            watch.WaitForExit();
        }
        var seen = lines.ToList();
        Assert.True(seen.Count(l => l.StartsWith("watched", StringComparison.Ordinal)) >= 2, string.Join("\n", seen));
        Assert.Matches(@"^watched\s+2\s+\d+s$", seen.First(l => l.StartsWith("watched", StringComparison.Ordinal)));
    }

    [Fact]
    public void UnknownField_IsRejectedByStrictFieldValidation_AndWarnedOtherwise()
    {
        var ns = Namespace();
        var typo = File("typo.yaml", Web.Replace("replicas: 2", "replica: 2"));
        var strict = Kubectl.Run("apply", "-n", ns, "-f", typo);
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains("strict decoding error: unknown field \"spec.replica\"", strict.Error);
        Assert.Equal("", Kubectl.Ok("get", "-n", ns, "deployments", "-o", "name"));
        var warn = Kubectl.Run("apply", "-n", ns, "--validate=warn", "-f", typo);
        Assert.Equal(0, warn.ExitCode);
        Assert.Contains("Warning: unknown field \"spec.replica\"", warn.Error);
    }

    [Fact]
    public void TypedCreate_SentAsProtobuf_ReadForCommonKinds_RefusedClearlyForOthers()
    {
        var ns = "p-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal($"namespace/{ns} created\n", Kubectl.Ok("create", "namespace", ns));
        Assert.Equal("configmap/c1 created\n", Kubectl.Ok("create", "configmap", "c1", "-n", ns, "--from-literal=a=b", "--from-literal=c=d"));
        Assert.Equal("secret/s1 created\n", Kubectl.Ok("create", "secret", "generic", "s1", "-n", ns, "--from-literal=pw=hunter2"));
        Assert.Equal("serviceaccount/robot created\n", Kubectl.Ok("create", "serviceaccount", "robot", "-n", ns));
        Assert.Equal("""{"a":"b","c":"d"}""", Kubectl.Ok("get", "configmap", "c1", "-n", ns, "-o", "jsonpath={.data}"));
        Assert.Equal("aHVudGVyMg== Opaque", Kubectl.Ok("get", "secret", "s1", "-n", ns, "-o", "jsonpath={.data.pw} {.type}"));
        Assert.Equal("deployment.apps/d created\n", Kubectl.Ok("create", "deployment", "d", "-n", ns, "--image=nginx:1.27", "--replicas=3", "--port=8080"));
        var deployment = JsonNode.Parse(Kubectl.Ok("get", "deployment", "d", "-n", ns, "-o", "json"))!;
        Assert.Equal(3, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("d", (string?)deployment["spec"]!["selector"]!["matchLabels"]!["app"]);
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal(("nginx", "nginx:1.27", 8080), ((string?)container["name"], (string?)container["image"], (int)container["ports"]![0]!["containerPort"]!));
        Assert.Null(container["ports"]![0]!["hostPort"]);
        Assert.Equal("service/s created\n", Kubectl.Ok("create", "service", "nodeport", "s", "-n", ns, "--tcp=80:http"));
        var service = JsonNode.Parse(Kubectl.Ok("get", "service", "s", "-n", ns, "-o", "json"))!;
        Assert.Equal("NodePort", (string?)service["spec"]!["type"]);
        Assert.Equal("s", (string?)service["spec"]!["selector"]!["app"]);
        var port = service["spec"]!["ports"]![0]!;
        Assert.Equal((80, "http", "TCP"), ((int)port["port"]!, (string?)port["targetPort"], (string?)port["protocol"]));
        Assert.InRange((int)port["nodePort"]!, 30000, 32767);
        // RBAC kinds are read too (Http/Protobuf.Rbac.cs).
        Assert.Equal("role.rbac.authorization.k8s.io/r created\n", Kubectl.Ok("create", "role", "r", "-n", ns, "--verb=get", "--resource=pods"));
    }

    [Fact]
    public void Explain_WalksTheDeepSchemas_WithUpstreamDescriptions()
    {
        var containers = Kubectl.Ok("explain", "deployment.spec.template.spec.containers");
        Assert.Contains("FIELD: containers <[]Container>", containers);
        Assert.Contains("List of containers belonging to the pod.", containers);
        Assert.Matches(@"\n  image\t<string>\n", containers);
        Assert.Matches(@"\n  ports\t<\[\]ContainerPort>\n", containers);
        var port = Kubectl.Ok("explain", "deployment.spec.template.spec.containers.ports.containerPort");
        Assert.Contains("FIELD: containerPort <integer>", port);
        Assert.Contains("FIELD: podSelector <LabelSelector>", Kubectl.Ok("explain", "networkpolicy.spec.podSelector"));
        var missing = Kubectl.Run("explain", "deployment.spec.template.spec.containers.nope");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("field \"nope\" does not exist", missing.Error);
    }

    [Fact]
    public void ApplyValidateStrict_AcceptsTheObject_AndRejectsATypoInAChange()
    {
        var ns = Namespace();
        var file = File("strict.yaml", Web);
        Assert.Equal("deployment.apps/web created\nservice/web created\n", Kubectl.Ok("apply", "--validate=strict", "-n", ns, "-f", file));
        File("strict.yaml", Web.Replace("image: agnhost:2.39", "image: agnhost:2.40\n        imagePullPolicyy: Always"));
        var typo = Kubectl.Run("apply", "--validate=strict", "-n", ns, "-f", file);
        Assert.NotEqual(0, typo.ExitCode);
        Assert.Contains("unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"", typo.Error);
        Assert.Equal("agnhost:2.39", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
