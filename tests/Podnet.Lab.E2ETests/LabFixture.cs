using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// One three-node lab for the whole class, brought up with the published `podnet lab up` and
/// always taken down with `podnet lab down`, also when a test fails. The root namespace is
/// snapshotted before and compared after by the suite-level test in <see cref="LabLifecycleTests"/>.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    public string Name { get; } = "e" + Guid.NewGuid().ToString("N")[..7];

    public string Podnet { get; } = RepoPaths.Bin("podnet");

    public Kubernetes Client { get; private set; } = null!;

    public JsonNode Status { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!Privileges.CanMakeNamespaces)
        {
            return;
        }
        var up = Run("lab", "up", "--name", Name, "--nodes", "3");
        if (!up.Success)
        {
            Run("lab", "down", "--name", Name);
            throw new InvalidOperationException($"lab up failed ({up.ExitCode}): {up.StandardError}{up.StandardOutput}");
        }
        Status = JsonNode.Parse(Run("lab", "status", "--name", Name, "-o", "json").StandardOutput)!;
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile((string)Status["kubeconfig"]!));
        await Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Client?.Dispose();
        if (Privileges.CanMakeNamespaces)
        {
            Run("lab", "down", "--name", Name);
        }
        return Task.CompletedTask;
    }

    public ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(null, Podnet, arguments, timeout: TimeSpan.FromMinutes(4));

    public Task<V1Pod> RunPodAsync(V1Pod pod, TimeSpan? timeout = null) => new LabFixtureView(Name, Client).RunPodAsync(pod, timeout);

    public Task<V1Pod> WaitForPodAsync(string ns, string name, Func<V1Pod, bool> condition, TimeSpan? timeout = null) =>
        new LabFixtureView(Name, Client).WaitForPodAsync(ns, name, condition, timeout);

    public Netns PodNetns(V1Pod pod) => new LabFixtureView(Name, Client).PodNetns(pod);

    public Netns HostNetns(string part) => Netns.Open($"pn-{Name}-{part}");

    public static V1Pod ServerPod(string name, string node) => LabFixtureView.ServerPod(name, node);
}

/// <summary>Pods in a running lab: create and wait, and find a pod's namespace.</summary>
public sealed class LabFixtureView(string name, Kubernetes client)
{
    public string Name { get; } = name;

    public Kubernetes Client { get; } = client;

    /// <summary>Creates a pod and waits until it runs (Ready), returning it.</summary>
    public async Task<V1Pod> RunPodAsync(V1Pod pod, TimeSpan? timeout = null)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
        return await WaitForPodAsync(ns, pod.Metadata.Name, p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, timeout);
    }

    public async Task<V1Pod> WaitForPodAsync(string ns, string name, Func<V1Pod, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        V1Pod? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Client.CoreV1.ReadNamespacedPodAsync(name, ns);
            if (condition(last))
            {
                return last;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"pod {ns}/{name} did not get there in time: {KubernetesJson.Serialize(last?.Status)}");
    }

    /// <summary>The pod's network namespace, found by its address among the lab's pod namespaces.</summary>
    public Netns PodNetns(V1Pod pod)
    {
        var prefix = $"pn-{Name}-{pod.Spec.NodeName}-p";
        foreach (var name in Netns.List().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var netns = Netns.Open(name);
            var addresses = Tools.Ip(netns, "addr", "show", "eth0");
            if (addresses.Any(a => a!["addr_info"]!.AsArray().Any(i => (string)i!["local"]! == pod.Status.PodIP)))
            {
                return netns;
            }
            netns.Dispose();
        }
        throw new InvalidOperationException($"no namespace with {pod.Status.PodIP} under {prefix}");
    }

    public static V1Pod ServerPod(string name, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec
        {
            NodeName = node,
            Containers =
            [
                new V1Container
                {
                    Name = "web",
                    Image = "registry.k8s.io/e2e-test-images/agnhost:2.53",
                    Args = ["netexec", "--http-port=8080", "--udp-port=8081"],
                    Ports = [new V1ContainerPort { ContainerPort = 8080 }, new V1ContainerPort { ContainerPort = 8081, Protocol = "UDP" }],
                },
            ],
        },
    };
}
