using System.Diagnostics;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>
/// `podnet apply` against the real server, step for step beside the real kubectl apply in
/// another namespace: both objects must end the same.
/// </summary>
public sealed class ClientSideApplyTests(ServerFixture server) : KubectlTestBase(server)
{
    private static readonly string First = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web, stage: one}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: agnhost:2.39
                ports: [{containerPort: 8080}]
                env: [{name: A, value: "1"}, {name: GONE, value: "x"}]
              - name: sidecar
                image: busybox
        ---

        """ + WebService("[{name: http, port: 80, targetPort: 8080}, {name: old, port: 81}]");

    private static readonly string Second = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web, tier: front}
        spec:
          replicas: 3
          selector:
            matchLabels: {app: web}
          strategy: {type: Recreate}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: agnhost:2.40
                ports: [{containerPort: 8080}, {containerPort: 9090, name: metrics}]
                env: [{name: A, value: "2"}, {name: C, value: "3"}]
        ---

        """ + WebService("[{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]");

    private (int ExitCode, string Out, string Error) Podnet(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "podnet.dll"));
        foreach (var argument in arguments.Concat(["--kubeconfig", Server.Host.KubeconfigPath]))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"podnet {string.Join(' ', arguments)} did not finish in 60 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>What another writer does to the objects between two applies.</summary>
    private void OtherWriter(string ns)
    {
        Kubectl.Ok("label", "-n", ns, "deployment", "web", "owner=ops");
        Kubectl.Ok("patch", "-n", ns, "deployment", "web", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"INJECTED","value":"yes"}]}]}}}}""");
        Kubectl.Ok("annotate", "-n", ns, "deployment", "web", "controller.example/seen=true");
        Kubectl.Ok("scale", "-n", ns, "deployment", "web", "--replicas=5");
    }

    /// <summary>Applies one manifest with kubectl and with podnet, each into a namespace of its own; podnet must succeed.</summary>
    private (string ViaKubectl, string ViaPodnet, string PodnetOutput) ApplyBoth(string prefix, string manifest, params string[] kubectlFlags)
    {
        var viaKubectl = Namespace(prefix + "k-");
        var viaPodnet = Namespace(prefix + "p-");
        var path = File($"{prefix}.yaml", manifest);
        Kubectl.Ok(["apply", .. kubectlFlags, "-n", viaKubectl, "-f", path]);
        var podnet = Podnet("apply", "-n", viaPodnet, "-f", path);
        Assert.True(podnet.ExitCode == 0, podnet.Error);
        return (viaKubectl, viaPodnet, podnet.Out);
    }

    /// <summary>An object with what differs between two namespaces and two runs set aside.</summary>
    private JsonObject Comparable(string ns, string kind)
    {
        var obj = JsonNode.Parse(Kubectl.Ok("get", "-n", ns, kind, "web", "-o", "json"))!.AsObject();
        var meta = obj["metadata"]!.AsObject();
        foreach (var field in new[] { "uid", "resourceVersion", "creationTimestamp", "namespace", "managedFields", "generation" })
        {
            meta.Remove(field);
        }
        var annotations = meta["annotations"]!.AsObject();
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = ((string)annotations["kubectl.kubernetes.io/last-applied-configuration"]!).Replace($"\"namespace\":\"{ns}\"", "\"namespace\":\"NS\"", StringComparison.Ordinal);
        obj.Remove("status");
        if (obj["spec"]?["clusterIP"] is not null)
        {
            obj["spec"]!.AsObject().Remove("clusterIP");
            obj["spec"]!.AsObject().Remove("clusterIPs");
        }
        return obj;
    }

    [Fact]
    public void ManifestWithAFieldTheKindLacks_IsSentAsWritten_AsKubectlSendsIt()
    {
        // kubectl converts YAML to JSON without a typed model: a field the kind does not have
        // reaches the server and stays in last-applied-configuration; the stored object lacks
        // it, as kube-apiserver's decoding drops it.
        var (viaKubectl, viaPodnet, output) = ApplyBoth("csa-u", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web
              labels: {app: web}
            data: {mode: "fast"}
            notAField: {nested: 1}

            """, "--validate=false");
        Assert.Equal("configmap/web created\n", output);
        var comparable = Comparable(viaPodnet, "configmap");
        Assert.Equal(Comparable(viaKubectl, "configmap").ToJsonString(), comparable.ToJsonString());
        Assert.Null(comparable["notAField"]);
        Assert.Contains("\"notAField\":{\"nested\":1}", (string)comparable["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithAnchorsAndMergeKeys_AppliesAsKubectlApplies_HostileOnesAreRefused()
    {
        var (viaKubectl, viaPodnet, _) = ApplyBoth("csa-m", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web
              labels: &labels {app: web, tier: front}
            data:
              <<: [{mode: fast, level: "1"}, {mode: slow, extra: "x"}]
              level: "2"
              copy: &c same
              again: *c

            """);
        static string Data(JsonObject obj) => string.Join(",", obj["data"]!.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        Assert.Equal("again=same,copy=same,extra=x,level=2,mode=fast", Data(Comparable(viaKubectl, "configmap")));
        Assert.Equal(Data(Comparable(viaKubectl, "configmap")), Data(Comparable(viaPodnet, "configmap")));
        var laughs = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\ndata:\n" + Unit.YamlToJsonTests.Laughs(9, 9, "  ");
        foreach (var (name, text, why) in new[] { ("laughs.yaml", laughs, "excessive aliasing"), ("deep.yaml", new string('[', 100_000), "exceeded max depth") })
        {
            var refused = Podnet("apply", "-n", viaPodnet, "-f", File(name, text));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("error: error parsing", refused.Error, StringComparison.Ordinal);
            Assert.Contains(why, refused.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ApplyChangedByAnotherWriterThenReapplied_EndsAsKubectlApplyEnds()
    {
        var viaKubectl = Namespace("csa-k-");
        var viaPodnet = Namespace("csa-p-");
        var first = File("first.yaml", First);
        var second = File("second.yaml", Second);

        Assert.Equal(Kubectl.Ok("apply", "-n", viaKubectl, "-f", first), Podnet("apply", "-n", viaPodnet, "-f", first).Out);
        foreach (var kind in new[] { "deployment", "service" })
        {
            Assert.Equal(Comparable(viaKubectl, kind).ToJsonString(), Comparable(viaPodnet, kind).ToJsonString());
        }
        OtherWriter(viaKubectl);
        OtherWriter(viaPodnet);

        var kubectlSays = Kubectl.Ok("apply", "-n", viaKubectl, "-f", second);
        var podnet = Podnet("apply", "-n", viaPodnet, "-f", second);
        Assert.True(podnet.ExitCode == 0, podnet.Error);
        Assert.Equal("deployment.apps/web configured\nservice/web configured\n", kubectlSays);
        Assert.Equal(kubectlSays, podnet.Out);
        foreach (var kind in new[] { "deployment", "service" })
        {
            Assert.Equal(Comparable(viaKubectl, kind).ToJsonString(), Comparable(viaPodnet, kind).ToJsonString());
        }

        // What the merge had to get right, spelled out: the other writer's label, annotation and
        // env var stay; what the first file had and the second dropped is gone.
        var deployment = Comparable(viaPodnet, "deployment");
        Assert.Equal("ops", (string?)deployment["metadata"]!["labels"]!["owner"]);
        Assert.Null(deployment["metadata"]!["labels"]!["stage"]);
        Assert.Equal("true", (string?)deployment["metadata"]!["annotations"]!["controller.example/seen"]);
        Assert.Equal(3, (int)deployment["spec"]!["replicas"]!);
        Assert.Null(deployment["spec"]!["strategy"]!["rollingUpdate"]);
        var containers = deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["web"], containers.Select(c => (string)c!["name"]!));
        Assert.Equal(["A=2", "C=3", "INJECTED=yes"], containers[0]!["env"]!.AsArray().Select(e => $"{e!["name"]}={e["value"]}").Order());
        Assert.Equal([8080, 9090], containers[0]!["ports"]!.AsArray().Select(p => (int)p!["containerPort"]!));
        var service = Comparable(viaPodnet, "service");
        Assert.Equal(["http:80", "https:443"], service["spec"]!["ports"]!.AsArray().Select(p => $"{p!["name"]}:{p["port"]}"));

        Assert.Equal(Kubectl.Ok("apply", "-n", viaKubectl, "-f", second), Podnet("apply", "-n", viaPodnet, "-f", second).Out);
    }
}
