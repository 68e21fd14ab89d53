using k8s;
using k8s.Models;
using Podnet.Lab.State;

namespace Podnet.Cli.Commands;

/// <summary>The demo `lab up --demo` applies (examples/demo.yaml) and what it suggests trying.</summary>
internal static class Demo
{
    public static string ManifestPath => Path.Combine(RepositoryRoot(), "examples", "demo.yaml");

    /// <summary>The demo Service's ClusterIP once <see cref="ApplyAsync"/> has created it.</summary>
    public static string? ServiceIP { get; private set; }

    public static async Task<bool> ApplyAsync(LabState state, CancellationToken token)
    {
        var path = ManifestPath;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"podnet lab: the demo manifest {path} is missing");
            return false;
        }
        using var client = new Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
        foreach (var item in KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(path, token)))
        {
            try
            {
                var line = item switch
                {
                    V1Deployment d => $"deployment.apps/{(await client.AppsV1.CreateNamespacedDeploymentAsync(d, d.Metadata.NamespaceProperty ?? "default", cancellationToken: token)).Metadata.Name} created",
                    V1Service s => $"service/{Remember(await client.CoreV1.CreateNamespacedServiceAsync(s, s.Metadata.NamespaceProperty ?? "default", cancellationToken: token)).Metadata.Name} created",
                    V1Pod p => $"pod/{(await client.CoreV1.CreateNamespacedPodAsync(p, p.Metadata.NamespaceProperty ?? "default", cancellationToken: token)).Metadata.Name} created",
                    _ => $"skipped a {item.GetType().Name}: the demo only creates Deployments, Services and Pods",
                };
                Console.Error.WriteLine($"  {line}");
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                Console.Error.WriteLine("  (already there)");
            }
        }
        return true;
    }

    private static V1Service Remember(V1Service service)
    {
        ServiceIP ??= service.Spec?.ClusterIP;
        return service;
    }

    public static void PrintWhatToTry(LabState state, bool demo)
    {
        Console.WriteLine();
        Console.WriteLine("Try:");
        Console.WriteLine($"  export KUBECONFIG={state.Kubeconfig}");
        Console.WriteLine("  kubectl get nodes -o wide");
        if (demo)
        {
            Console.WriteLine("  kubectl get pods -o wide                        # the web pods and the client, each a network namespace");
            Console.WriteLine("  kubectl get endpointslices                      # the web Service's endpoints, from the pods' addresses");
        }
        var lab = state.Name == Podnet.Lab.Topology.LabName.Default ? "" : $" --lab {state.Name}";
        if (demo)
        {
            var ip = ServiceIP ?? "<web's ClusterIP>";
            Console.WriteLine($"  ./podnet exec{lab} client -- curl -s http://web/hostname        # the web Service by name, through the pod's resolv.conf: a different pod answers each time");
            Console.WriteLine($"  ./podnet exec{lab} client -- dig +short web.default.svc.cluster.local      # its A record ({ip}), from cluster DNS");
            Console.WriteLine($"  ./podnet exec{lab} client -- dig +short -x {ip}            # the PTR back to the Service's name");
            Console.WriteLine($"  ./podnet exec{lab} client -- cat /etc/resolv.conf          # nameserver {ClusterDnsAddress(state)}, the kube-dns Service; search path");
            Console.WriteLine($"  kubectl -n kube-system get deploy,svc kube-dns           # podnet dns, behind the kube-dns Service");
            Console.WriteLine($"  ./podnet exec{lab} client -- curl -s http://{ip}/hostname        # the web Service by its ClusterIP");
            Console.WriteLine($"  ./podnet exec{lab} client -- curl -s http://{ip}/clientip        # the pod answering sees the client's own address");
            Console.WriteLine($"  sudo ip netns exec pn-{state.Name}-n1 nft list table ip podnet-proxy   # how the node balances it");
            Console.WriteLine($"  ./podnet exec{lab} client -- curl -s http://<a web pod's IP>:8080/hostname   # pod to pod, across nodes");
            Console.WriteLine($"  ./podnet exec{lab} client -- curl -s http://<a web pod's IP>:8080/clientip   # the server sees the client's own address");
        }
        var n1 = Podnet.Lab.Topology.LabPlanner.Build(state.LoadSettings().ToSpec()).Nodes[0].Address.Address;
        Console.WriteLine($"  ./podnet exec{lab} --outside -- ping -c1 {n1}                          # the outside host reaches nodes, not pods");
        Console.WriteLine($"  ./podnet lab status --name {state.Name}");
        Console.WriteLine("  sudo ip netns list                              # the lab's namespaces: fabric, cp, out, nodes, pods");
        Console.WriteLine($"  ./podnet lab down --name {state.Name}");
    }

    private static string ClusterDnsAddress(LabState state) =>
        LabProcesses.ClusterDns(Podnet.Lab.Topology.LabPlanner.Build(state.LoadSettings().ToSpec()));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "podnet")) && Directory.Exists(Path.Combine(dir.FullName, "examples")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
