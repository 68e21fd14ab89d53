using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

public sealed partial class KubectlTests : IClassFixture<ServerFixture>, IDisposable
{
    private const string Web = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: agnhost:2.39
                ports: [{containerPort: 8080}]
                env: [{name: A, value: "1"}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector: {app: web}
          ports: [{port: 80, targetPort: 8080}]
        """;

    private readonly string _home = Directory.CreateTempSubdirectory("podnet-kubectl-").FullName;
    private readonly Kubectl _kubectl;

    public KubectlTests(ServerFixture server) => _kubectl = new Kubectl(server.Host.KubeconfigPath, _home);

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string Namespace()
    {
        var name = "k-" + Guid.NewGuid().ToString("N")[..8];
        var result = _kubectl.RunWithInput($"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n", "create", "-f", "-");
        Assert.Equal((0, $"namespace/{name} created\n"), (result.ExitCode, result.Out));
        return name;
    }

    private string File(string name, string text)
    {
        var path = Path.Combine(_home, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private static string[] Header(string table) => Spaces().Split(table.Split('\n')[0].Trim());

    [Fact]
    public void Create_ThenApplyTwice_CreatedUnchangedConfigured()
    {
        var ns = Namespace();
        var file = File("web.yaml", Web);
        Assert.Equal("deployment.apps/web created\nservice/web created\n", _kubectl.Ok("create", "-n", ns, "-f", file));
        var adopt = _kubectl.Run("apply", "-n", ns, "-f", file);
        Assert.Equal("deployment.apps/web configured\nservice/web configured\n", adopt.Out);
        Assert.Contains("missing the kubectl.kubernetes.io/last-applied-configuration annotation", adopt.Error);
        Assert.Equal("deployment.apps/web unchanged\nservice/web unchanged\n", _kubectl.Ok("apply", "-n", ns, "-f", file));
        File("web.yaml", Web.Replace("replicas: 2", "replicas: 4").Replace("value: \"1\"", "value: \"2\""));
        Assert.Equal("deployment.apps/web configured\nservice/web unchanged\n", _kubectl.Ok("apply", "-n", ns, "-f", file));
        var deployment = JsonNode.Parse(_kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "json"))!;
        Assert.Equal(4, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("2", (string?)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]![0]!["value"]);
        Assert.Equal(8080, (int)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
    }

    [Fact]
    public void Apply_New_SaysCreated()
    {
        var ns = Namespace();
        Assert.Equal("deployment.apps/web created\nservice/web created\n", _kubectl.Ok("apply", "-n", ns, "-f", File("apply-new.yaml", Web)));
    }

    [Fact]
    public void Get_DefaultAndWideColumns_JsonAndYaml()
    {
        var ns = Namespace();
        _kubectl.Ok("apply", "-n", ns, "-f", File("cols.yaml", Web));
        _kubectl.Ok("run", "-n", ns, "p1", "--image=nginx");
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE"], Header(_kubectl.Ok("get", "-n", ns, "pods")));
        Assert.Equal(["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"], Header(_kubectl.Ok("get", "-n", ns, "pods", "-o", "wide")));
        Assert.Matches(@"\np1\s+0/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>", _kubectl.Ok("get", "-n", ns, "pods", "-o", "wide"));
        var services = _kubectl.Ok("get", "-n", ns, "services");
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], Header(services));
        Assert.Matches(@"\nweb\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80/TCP\s+\d+s", services);
        Assert.Equal(["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"], Header(_kubectl.Ok("get", "-n", ns, "services", "-o", "wide")));
        Assert.Equal(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], Header(_kubectl.Ok("get", "-n", ns, "deployments")));
        var json = JsonNode.Parse(_kubectl.Ok("get", "-n", ns, "service", "web", "-o", "json"))!;
        Assert.Equal("Service", (string?)json["kind"]);
        Assert.Equal(8080, (int)json["spec"]!["ports"]![0]!["targetPort"]!);
        var list = JsonNode.Parse(_kubectl.Ok("get", "-n", ns, "pods", "-o", "json"))!;
        Assert.Equal("List", (string?)list["kind"]);
        Assert.Contains("kind: Service", _kubectl.Ok("get", "-n", ns, "service", "web", "-o", "yaml"));
        var missing = _kubectl.Run("get", "-n", ns, "pod", "nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("Error from server (NotFound): pods \"nope\" not found", missing.Error);
    }

    [Fact]
    public void Label_Scale_DeleteWithCascade()
    {
        var ns = Namespace();
        _kubectl.Ok("apply", "-n", ns, "-f", File("scale.yaml", Web));
        Assert.Equal("deployment.apps/web labeled\n", _kubectl.Ok("label", "-n", ns, "deployment", "web", "tier=front"));
        Assert.Contains("web", _kubectl.Ok("get", "-n", ns, "deployments", "-l", "tier=front", "-o", "name"));
        Assert.Equal("", _kubectl.Ok("get", "-n", ns, "deployments", "-l", "tier=back", "-o", "name"));
        Assert.Equal("deployment.apps/web scaled\n", _kubectl.Ok("scale", "-n", ns, "deployment", "web", "--replicas=5"));
        Assert.Equal("5", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));
        var uid = _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.metadata.uid}");
        _kubectl.Ok("create", "-n", ns, "-f", File("rs.json", ReplicaSet(uid)));
        Assert.Equal("deployment.apps \"web\" deleted\n", _kubectl.Ok("delete", "-n", ns, "deployment", "web"));
        Assert.Equal("", _kubectl.Ok("get", "-n", ns, "replicasets", "-o", "name"));

        _kubectl.Ok("apply", "-n", ns, "-f", File("scale.yaml", Web));
        uid = _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.metadata.uid}");
        _kubectl.Ok("create", "-n", ns, "-f", File("rs.json", ReplicaSet(uid)));
        _kubectl.Ok("delete", "-n", ns, "deployment", "web", "--cascade=orphan");
        Assert.Equal("replicaset.apps/web-1\n", _kubectl.Ok("get", "-n", ns, "replicasets", "-o", "name"));
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
        var result = _kubectl.Run("apply", "-n", ns, "-f", bad);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("The Service \"bad\" is invalid", result.Error);
        Assert.Contains("spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive", result.Error);
        Assert.Equal("", _kubectl.Ok("get", "-n", ns, "services", "-o", "name"));
    }

    [Fact]
    public void GetWatch_SeesChangesMadeByAnotherProcess()
    {
        var ns = Namespace();
        using var watch = _kubectl.Start(["get", "-n", ns, "configmaps", "-w", "--request-timeout=30s"]);
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
            _kubectl.Ok("create", "-n", ns, "-f", File("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: b, c: d}\n"));
            _kubectl.Ok("label", "-n", ns, "configmap", "watched", "x=y");
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
        var strict = _kubectl.Run("apply", "-n", ns, "-f", typo);
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains("strict decoding error: unknown field \"spec.replica\"", strict.Error);
        Assert.Equal("", _kubectl.Ok("get", "-n", ns, "deployments", "-o", "name"));
        var warn = _kubectl.Run("apply", "-n", ns, "--validate=warn", "-f", typo);
        Assert.Equal(0, warn.ExitCode);
        Assert.Contains("Warning: unknown field \"spec.replica\"", warn.Error);
    }

    [Fact]
    public void TypedCreate_SentAsProtobuf_ReadForCommonKinds_RefusedClearlyForOthers()
    {
        var ns = "p-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal($"namespace/{ns} created\n", _kubectl.Ok("create", "namespace", ns));
        Assert.Equal("configmap/c1 created\n", _kubectl.Ok("create", "configmap", "c1", "-n", ns, "--from-literal=a=b", "--from-literal=c=d"));
        Assert.Equal("secret/s1 created\n", _kubectl.Ok("create", "secret", "generic", "s1", "-n", ns, "--from-literal=pw=hunter2"));
        Assert.Equal("serviceaccount/robot created\n", _kubectl.Ok("create", "serviceaccount", "robot", "-n", ns));
        Assert.Equal("""{"a":"b","c":"d"}""", _kubectl.Ok("get", "configmap", "c1", "-n", ns, "-o", "jsonpath={.data}"));
        Assert.Equal("aHVudGVyMg== Opaque", _kubectl.Ok("get", "secret", "s1", "-n", ns, "-o", "jsonpath={.data.pw} {.type}"));
        Assert.Equal("deployment.apps/d created\n", _kubectl.Ok("create", "deployment", "d", "-n", ns, "--image=nginx:1.27", "--replicas=3", "--port=8080"));
        var deployment = JsonNode.Parse(_kubectl.Ok("get", "deployment", "d", "-n", ns, "-o", "json"))!;
        Assert.Equal(3, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("d", (string?)deployment["spec"]!["selector"]!["matchLabels"]!["app"]);
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal(("nginx", "nginx:1.27", 8080), ((string?)container["name"], (string?)container["image"], (int)container["ports"]![0]!["containerPort"]!));
        Assert.Null(container["ports"]![0]!["hostPort"]);
        Assert.Equal("service/s created\n", _kubectl.Ok("create", "service", "nodeport", "s", "-n", ns, "--tcp=80:http"));
        var service = JsonNode.Parse(_kubectl.Ok("get", "service", "s", "-n", ns, "-o", "json"))!;
        Assert.Equal("NodePort", (string?)service["spec"]!["type"]);
        Assert.Equal("s", (string?)service["spec"]!["selector"]!["app"]);
        var port = service["spec"]!["ports"]![0]!;
        Assert.Equal((80, "http", "TCP"), ((int)port["port"]!, (string?)port["targetPort"], (string?)port["protocol"]));
        Assert.InRange((int)port["nodePort"]!, 30000, 32767);
        var role = _kubectl.Run("create", "role", "r", "-n", ns, "--verb=get", "--resource=pods");
        Assert.NotEqual(0, role.ExitCode);
        Assert.Contains("send application/json", role.Error);
    }

    [Fact]
    public void Explain_WalksTheDeepSchemas_WithUpstreamDescriptions()
    {
        var containers = _kubectl.Ok("explain", "deployment.spec.template.spec.containers");
        Assert.Contains("FIELD: containers <[]Container>", containers);
        Assert.Contains("List of containers belonging to the pod.", containers);
        Assert.Matches(@"\n  image\t<string>\n", containers);
        Assert.Matches(@"\n  ports\t<\[\]ContainerPort>\n", containers);
        var port = _kubectl.Ok("explain", "deployment.spec.template.spec.containers.ports.containerPort");
        Assert.Contains("FIELD: containerPort <integer>", port);
        Assert.Contains("FIELD: podSelector <LabelSelector>", _kubectl.Ok("explain", "networkpolicy.spec.podSelector"));
        var missing = _kubectl.Run("explain", "deployment.spec.template.spec.containers.nope");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("field \"nope\" does not exist", missing.Error);
    }

    [Fact]
    public void ApplyValidateStrict_AcceptsTheObject_AndRejectsATypoInAChange()
    {
        var ns = Namespace();
        var file = File("strict.yaml", Web);
        Assert.Equal("deployment.apps/web created\nservice/web created\n", _kubectl.Ok("apply", "--validate=strict", "-n", ns, "-f", file));
        File("strict.yaml", Web.Replace("image: agnhost:2.39", "image: agnhost:2.40\n        imagePullPolicyy: Always"));
        var typo = _kubectl.Run("apply", "--validate=strict", "-n", ns, "-f", file);
        Assert.NotEqual(0, typo.ExitCode);
        Assert.Contains("unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"", typo.Error);
        Assert.Equal("agnhost:2.39", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
