using k8s;
using k8s.Models;
using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// The lab's cluster DNS: `podnet dns` as the Deployment `kube-dns` in kube-system behind the
/// Service `kube-dns` at the tenth address of each service CIDR (10.96.0.10, fd00:10:96::a), the
/// address every pod's resolv.conf names. The one place these objects are built.
/// </summary>
/// <remarks>
/// The pod's container command is the absolute path of the running `podnet`: a pod's command runs
/// on the host's filesystem inside the pod's namespaces, so it uses the in-cluster service
/// account and reaches the API through the `kubernetes` Service, as CoreDNS does on a real
/// cluster. Upstreams are only those the lab file names (spec.dnsUpstreams); with none, names
/// outside the zone get SERVFAIL at once. `lab up` and a resume both call
/// <see cref="EnsureAsync"/>: an existing Service is kept, an existing Deployment gets the
/// current pod template (the binary's path or the upstreams may have changed).
/// </remarks>
internal static class LabDns
{
    public const string Name = "kube-dns";
    public const string Namespace = "kube-system";
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(90);

    public static Dictionary<string, string> Labels => new() { ["k8s-app"] = "kube-dns" };

    /// <summary>
    /// Whether the lab runs cluster DNS: with its own API server and the controllers that turn a
    /// Deployment into a running pod behind a Service. An existing API server has its own DNS.
    /// </summary>
    public static bool Runs(LabSettings settings) =>
        !settings.UsesExternalApiServer
        && Controllers.Runtime.ControllerManager.ParseList(settings.EffectiveControllers) is var names
        && new[] { "scheduler", "deployments", "endpointslices" }.All(names.Contains);

    /// <summary>The Service: ClusterIP(s) fixed at the DNS addresses, ports dns, dns-tcp and metrics.</summary>
    public static V1Service BuildService(LabPlan plan)
    {
        var ips = LabProcesses.ClusterDnsAddresses(plan).ToList();
        return new V1Service
        {
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = new Dictionary<string, string>(Labels) { ["kubernetes.io/name"] = "CoreDNS" } },
            Spec = new V1ServiceSpec
            {
                Selector = Labels,
                ClusterIP = ips[0],
                ClusterIPs = ips,
                IpFamilies = ips.Select(ip => ip.Contains(':') ? "IPv6" : "IPv4").ToList(),
                IpFamilyPolicy = ips.Count > 1 ? "RequireDualStack" : "SingleStack",
                Ports =
                [
                    new V1ServicePort { Name = "dns", Port = 53, Protocol = "UDP", TargetPort = 53 },
                    new V1ServicePort { Name = "dns-tcp", Port = 53, Protocol = "TCP", TargetPort = 53 },
                    new V1ServicePort { Name = "metrics", Port = 9153, Protocol = "TCP", TargetPort = 9153 },
                ],
            },
        };
    }

    /// <summary>The Deployment running <paramref name="podnet"/> `dns` with the lab's upstreams.</summary>
    public static V1Deployment BuildDeployment(LabPlan plan, LabSettings settings, string podnet)
    {
        var ipv6 = plan.FabricSubnets.Any(f => f.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        List<string> command = [podnet, "dns", "--listen", ipv6 ? "[::]:53" : "0.0.0.0:53", "--workers", "1"];
        foreach (var upstream in LabSettings.SplitUpstreams(settings.DnsUpstreams))
        {
            command.AddRange(["--upstream", upstream]);
        }
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace, Labels = Labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = Labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Labels },
                    Spec = new V1PodSpec
                    {
                        // Its own account (deploy/rbac.yaml's podnet:dns), never an admin credential.
                        ServiceAccountName = Name,
                        DnsPolicy = "Default",
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "dns",
                                Image = "podnet",
                                Command = command,
                                Ports =
                                [
                                    new V1ContainerPort { Name = "dns", ContainerPort = 53, Protocol = "UDP" },
                                    new V1ContainerPort { Name = "dns-tcp", ContainerPort = 53, Protocol = "TCP" },
                                    new V1ContainerPort { Name = "metrics", ContainerPort = 9153, Protocol = "TCP" },
                                ],
                                ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/ready", Port = 8181 }, PeriodSeconds = 1 },
                                LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = 8080 }, InitialDelaySeconds = 60, PeriodSeconds = 10, FailureThreshold = 5 },
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>Creates the Service and the Deployment (or brings the Deployment's template up to date), then waits until it answers.</summary>
    public static async Task<bool> EnsureAsync(LabState state, LabPlan plan, LabSettings settings, CancellationToken token)
    {
        var podnet = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where the podnet binary is");
        using var client = new Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
        try
        {
            await LabRbac.EnsureAsync(client, token);
            await LabCrds.EnsureAsync(client, token);
            try
            {
                await client.CoreV1.CreateNamespacedServiceAsync(BuildService(plan), Namespace, cancellationToken: token);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // Kept: its addresses are fixed, and a resume finds it as it was.
            }
            var deployment = BuildDeployment(plan, settings, podnet);
            try
            {
                await client.AppsV1.CreateNamespacedDeploymentAsync(deployment, Namespace, cancellationToken: token);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                var current = await client.AppsV1.ReadNamespacedDeploymentAsync(Name, Namespace, cancellationToken: token);
                current.Spec.Template = deployment.Spec.Template;
                await client.AppsV1.ReplaceNamespacedDeploymentAsync(current, Name, Namespace, cancellationToken: token);
            }
        }
        catch (k8s.Autorest.HttpOperationException e)
        {
            Console.Error.WriteLine($"podnet lab: cannot create the cluster DNS: {e.Response.StatusCode}: {e.Response.Content}");
            return false;
        }
        if (await WaitAnsweringAsync(plan, token))
        {
            return true;
        }
        await DescribePodsAsync(client, token);
        return false;
    }

    /// <summary>After a failed wait, what the API says of the DNS pods, so a failure says where to look.</summary>
    private static async Task DescribePodsAsync(Kubernetes client, CancellationToken token)
    {
        try
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: "k8s-app=kube-dns", cancellationToken: token);
            if (pods.Items.Count == 0)
            {
                Console.Error.WriteLine("podnet lab: no kube-dns pod exists (is the deployments controller running?)");
            }
            foreach (var pod in pods.Items)
            {
                var conditions = string.Join(", ", (pod.Status?.Conditions ?? []).Select(c => $"{c.Type}={c.Status}"));
                var containers = string.Join("; ", (pod.Status?.ContainerStatuses ?? []).Select(c =>
                    c.State?.Waiting is { } w ? $"{c.Name} waiting: {w.Reason} {w.Message}"
                    : c.State?.Terminated is { } t ? $"{c.Name} terminated: exit {t.ExitCode} {t.Reason}"
                    : $"{c.Name} running, ready={c.Ready}, restarts {c.RestartCount}"));
                Console.Error.WriteLine($"podnet lab: pod {pod.Metadata.Name} on {pod.Spec.NodeName ?? "(unscheduled)"}: {pod.Status?.Phase} ({conditions}) {containers}".TrimEnd());
            }
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException)
        {
            Console.Error.WriteLine($"podnet lab: cannot read the kube-dns pods: {e.Message}");
        }
    }

    /// <summary>
    /// Waits until the DNS Service answers, asked from the first node's namespace (through the
    /// node's service proxy, as a pod's query goes) for the `kubernetes` Service's name in each
    /// family. A pod's Ready condition is not enough: on a resume the API still shows the pods
    /// of the last run as Ready until the agents have looked at them.
    /// </summary>
    private static async Task<bool> WaitAnsweringAsync(LabPlan plan, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + s_readyTimeout;
        using var node = Kernel.Netns.Open(plan.Nodes[0].Netns);
        foreach (var address in LabProcesses.ClusterDnsAddresses(plan).Select(System.Net.IPAddress.Parse))
        {
            var type = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (ushort)28 : (ushort)1;
            while (!await AnswersAsync(node, address, type, token))
            {
                if (DateTime.UtcNow >= deadline)
                {
                    Console.Error.WriteLine($"podnet lab: cluster DNS (kube-system/kube-dns at {address}) did not answer within {s_readyTimeout.TotalSeconds} s");
                    return false;
                }
                await Task.Delay(250, token);
            }
        }
        Console.Error.WriteLine("podnet lab: cluster DNS (kube-system/kube-dns) answering");
        return true;
    }

    /// <summary>Whether one query for kubernetes.default.svc.cluster.local gets a NOERROR answer within a second.</summary>
    private static async Task<bool> AnswersAsync(Kernel.Netns node, System.Net.IPAddress server, ushort type, CancellationToken token)
    {
        var name = Dns.Wire.Names.Encode("kubernetes.default.svc.cluster.local");
        var id = (ushort)Random.Shared.Next(ushort.MaxValue + 1);
        // The socket is made in the node's namespace and keeps it; the awaits come after.
        using var socket = node.Run(() => new System.Net.Sockets.Socket(server.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await socket.ConnectAsync(server, 53, timeout.Token);
            await socket.SendAsync(Dns.Forwarding.Relay.BuildQuery(name, type, 1, id), timeout.Token);
            var reply = new byte[1232];
            var length = await socket.ReceiveAsync(reply, timeout.Token);
            // NOERROR: the zone has synced (it answers SERVFAIL before) and the name exists; it
            // may have no record of this type (the `kubernetes` Service is single-stack in dual labs).
            return Dns.Forwarding.Relay.Answers(reply.AsSpan(0, length), id, name, type, 1) && (reply[3] & 0x0F) == 0;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException && !token.IsCancellationRequested)
        {
            return false;
        }
    }
}
