using System.Net;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A three-node lab whose file names an upstream resolver on the outside host
/// (<see cref="UpstreamAddress"/>, served by <see cref="TinyUpstream"/>), with a web Deployment
/// behind a ClusterIP and a headless Service, a Service `web` in namespace `other`, a headless
/// Service `many` whose slice has enough endpoints to truncate a UDP answer, and a client pod.
/// Always taken down, also when the setup fails.
/// </summary>
public sealed class DnsLabFixture : IAsyncLifetime
{
    public const string UpstreamAddress = "172.18.0.1:5353";
    public const string UpstreamAnswer = "192.0.2.7";
    public const int ManyEndpoints = 60;
    private const string DnsServer = "10.96.0.10";

    private TempLab? _lab;
    private Netns? _client;

    public LabFixtureView View => _lab!.View;

    public TinyUpstream Upstream { get; private set; } = null!;

    public V1Service Web { get; private set; } = null!;

    public V1Service Other { get; private set; } = null!;

    public IReadOnlyList<V1Pod> WebPods { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (!Privileges.CanMakeNamespaces)
        {
            return;
        }
        _lab = new TempLab("d");
        try
        {
            await SetUpAsync(_lab);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync(TempLab lab)
    {
        var dir = Directory.CreateTempSubdirectory("podnet-dns-").FullName;
        try
        {
            var file = Path.Combine(dir, "lab.yaml");
            await File.WriteAllTextAsync(file, $"kind: Lab\nmetadata: {{name: {lab.Name}}}\nspec:\n  nodes: 3\n  dnsUpstreams: {UpstreamAddress}\n");
            lab.Up("-f", file);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Upstream = TinyUpstream.Start(Netns.Open($"pn-{lab.Name}-out"), IPEndPoint.Parse(UpstreamAddress), IPAddress.Parse(UpstreamAnswer));
        var client = View.Client;
        var web = new Dictionary<string, string> { ["app"] = "web" };
        await client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = web },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = web },
                    Spec = new V1PodSpec
                    {
                        Containers = [new V1Container { Name = "web", Image = "registry.k8s.io/e2e-test-images/agnhost:2.53", Args = ["netexec", "--http-port=8080"], Ports = [new V1ContainerPort { ContainerPort = 8080 }] }],
                    },
                },
            },
        }, "default");
        Web = await client.CoreV1.CreateNamespacedServiceAsync(ServiceOf("web", web, clusterIp: null), "default");
        await client.CoreV1.CreateNamespacedServiceAsync(ServiceOf("web-headless", web, clusterIp: "None"), "default");
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        Other = await client.CoreV1.CreateNamespacedServiceAsync(ServiceOf("web", web, clusterIp: null), "other");
        await client.CoreV1.CreateNamespacedServiceAsync(ServiceOf("many", selector: null, clusterIp: "None"), "default");
        await client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "many-1", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "many" } },
            AddressType = "IPv4",
            Endpoints = Enumerable.Range(1, ManyEndpoints).Select(i => new V1Endpoint { Addresses = [$"10.250.0.{i}"], Conditions = new V1EndpointConditions { Ready = true } }).ToList(),
            Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 80, Protocol = "TCP" }],
        }, "default");
        var pod = await View.RunPodAsync(LabFixture.ServerPod("client", "n1"));
        _client = View.PodNetns(pod);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((WebPods = (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web")).Items
            .Where(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true).ToList()).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the web Deployment's two pods did not become Ready");
            await Task.Delay(200);
        }
    }

    private static V1Service ServiceOf(string name, Dictionary<string, string>? selector, string? clusterIp) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ServiceSpec
        {
            ClusterIP = clusterIp,
            Selector = selector,
            Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080, Protocol = "TCP" }],
        },
    };

    /// <summary>`dig @10.96.0.10 ARGS` from the client pod's namespace: its whole output.</summary>
    public string Dig(params string[] arguments)
    {
        var result = Tools.Run(_client, "dig", ["@" + DnsServer, "+time=2", "+tries=1", .. arguments]);
        return result.StandardOutput + result.StandardError;
    }

    /// <summary>`dig +short` until <paramref name="done"/> holds for its answers (records' data, one a line), or the time is up.</summary>
    public async Task<List<string>> DigUntilAsync(string[] arguments, Func<List<string>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var result = Tools.Run(_client, "dig", ["@" + DnsServer, "+short", .. arguments]);
            var answers = result.Success
                ? result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith(";;", StringComparison.Ordinal)).ToList()
                : [];
            if (done(answers) || DateTime.UtcNow >= deadline)
            {
                return answers;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>`podnet exec POD -- COMMAND` (the pod's own namespaces and files): its output, or the failure in full.</summary>
    public string Exec(string pod, params string[] command)
    {
        var result = _lab!.Run(["exec", "--lab", _lab.Name, pod, "--", .. command]);
        Assert.True(result.Success, $"{string.Join(' ', command)} in {pod}: exit {result.ExitCode}: {result.StandardError}");
        return result.StandardOutput;
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
        _lab?.Dispose();
    }
}
