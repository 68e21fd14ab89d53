using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// `lab up --kubeconfig`: a lab whose nodes register with an API server that was already running
/// (here Podnet's own, started on its own with no controllers, as a bare kube-apiserver runs
/// none; a real kube-apiserver cannot run on these machines: no binary is packaged and the Go
/// toolchain that builds one is too old), with only the controllers it is told to run.
/// </summary>
public sealed class ExternalApiServerTests
{
    [PrivilegedFact]
    public async Task LabUp_WithKubeconfig_NodesRegisterThere_PodsReachEachOther_DownForgetsNodes()
    {
        using var server = new StandaloneServer();
        using var external = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Kubeconfig));
        using var lab = new TempLab("x");
        lab.Up("--nodes", "2", "--kubeconfig", server.Kubeconfig, "--controllers", "nodeipam,scheduler,endpointslices");

        Assert.True((bool)lab.Status["externalApiServer"]!);
        Assert.Equal("nodeipam,scheduler,endpointslices", (string)lab.Status["controllers"]!);
        Assert.Equal(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Kubeconfig).Host, (string)lab.Status["apiServer"]!);
        var nodes = (await external.CoreV1.ListNodeAsync()).Items;
        Assert.Equal(["n1", "n2"], nodes.Select(n => n.Metadata.Name).Order());
        // nodeipam ran, in the lab: a process of its own there, which may give the CIDRs a moment
        // after the nodes registered.
        nodes = await WaitAsync(async () => (await external.CoreV1.ListNodeAsync()).Items is var all && all.All(n => n.Spec.PodCIDR is not null) ? all : null);
        Assert.All(nodes, n => Assert.StartsWith("10.244.", n.Spec.PodCIDR));

        // A pod without a node is bound by the lab's scheduler; pods reach each other across nodes.
        var a = await lab.View.RunPodAsync(LabFixture.ServerPod("a", "n1"));
        var unbound = LabFixture.ServerPod("b", "n2");
        unbound.Spec.NodeName = null;
        unbound.Spec.NodeSelector = new Dictionary<string, string> { ["kubernetes.io/hostname"] = "n2" };
        var b = await lab.View.RunPodAsync(unbound);
        Assert.Equal("n2", b.Spec.NodeName);
        using var podA = lab.View.PodNetns(a);
        var seen = Tools.Run(podA, "curl", "-sS", "--max-time", "5", $"http://{b.Status.PodIP}:8080/clientip");
        Assert.StartsWith($"{a.Status.PodIP}:", seen.StandardOutput);

        // Services get EndpointSlices from the lab's endpointslices controller.
        await external.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "b" }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
        }, "default");
        var slice = await WaitAsync(async () => (await external.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=web")).Items.SingleOrDefault(s => s.Endpoints?.Count > 0));
        Assert.Equal(b.Status.PodIP, slice.Endpoints.Single().Addresses.Single());

        var down = lab.Run("lab", "down", "--name", lab.Name);
        Assert.True(down.Success, down.StandardError);
        Assert.Empty((await external.CoreV1.ListNodeAsync()).Items);
        Assert.Empty((await external.CoreV1.ListNamespacedPodAsync("default")).Items);
        Assert.NotNull(await external.CoreV1.ReadNamespacedServiceAsync("web", "default")); // the server's own objects stay
        Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{lab.Name}-", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public void LabUp_WithKubeconfigOfAServerThatDoesNotAnswer_FailsBeforeBuildingAnything()
    {
        var dir = Directory.CreateTempSubdirectory("podnet-ext-").FullName;
        try
        {
            // A port nothing listens on: taken and released at once.
            var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            File.WriteAllText(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n");
            using var lab = new TempLab("x");
            var up = lab.Run("lab", "up", "--name", lab.Name, "--kubeconfig", kubeconfig);
            Assert.Equal(1, up.ExitCode);
            Assert.Contains($"--kubeconfig {kubeconfig}: cannot use that API server", up.StandardError);
            Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{lab.Name}-", StringComparison.Ordinal));

            var badControllers = lab.Run("lab", "up", "--name", lab.Name, "--kubeconfig", kubeconfig, "--controllers", "nodeipam,kubelet");
            Assert.Equal(2, badControllers.ExitCode);
            Assert.Contains("unknown controller(s) kubelet", badControllers.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T?>> probe) where T : class
    {
        for (var i = 0; i < 200; i++)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the condition did not hold within 20 s");
    }

    /// <summary>`podnet server --controllers none` in a directory of its own, stopped on dispose.</summary>
    private sealed class StandaloneServer : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("podnet-ext-server-").FullName;
        private readonly int _pid;

        public StandaloneServer()
        {
            using var process = ProcessSignals.StartDetached(null, "/bin/sh",
                ["-c", "exec \"$0\" server --state \"$1\" --port 0 --controllers none >\"$1/server.log\" 2>&1 </dev/null", RepoPaths.Bin("podnet"), _directory]);
            _pid = process.Id;
            for (var i = 0; i < 1200 && !File.Exists(Kubeconfig) && ProcessSignals.IsAlive(_pid); i++)
            {
                Thread.Sleep(100);
            }
            if (!File.Exists(Kubeconfig))
            {
                var log = File.ReadAllText(Path.Combine(_directory, "server.log"));
                Dispose();
                Assert.Fail($"the standalone server wrote no kubeconfig: {log}");
            }
        }

        public string Kubeconfig => Path.Combine(_directory, "kubeconfig");

        public void Dispose()
        {
            ProcessSignals.Kill(_pid, ProcessSignals.SigTerm);
            for (var i = 0; i < 100 && ProcessSignals.IsAlive(_pid); i++)
            {
                Thread.Sleep(100);
            }
            ProcessSignals.Kill(_pid, ProcessSignals.SigKill);
            Directory.Delete(_directory, recursive: true);
        }
    }
}
