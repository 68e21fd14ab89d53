using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>One probe: from a pod to a pod's address on a port and protocol.</summary>
public readonly record struct ModelPort(int Port, string Protocol)
{
    public static readonly ModelPort[] All = [new(80, "tcp"), new(81, "tcp"), new(80, "udp"), new(81, "udp")];

    public override string ToString() => $"{Port}/{Protocol}";
}

/// <summary>
/// The upstream NetworkPolicy model in a running lab: namespaces x, y, z (labelled ns=NAME), pods
/// a, b, c in each (labelled pod=NAME) spread over the three nodes, each serving TCP and UDP on
/// 80 and 81 (containerPorts serve-80-tcp …). <see cref="ProbeAsync"/> sends a real connection
/// for every ordered pair of pods and every port, all at once, each with a short timeout, so a
/// matrix costs about one timeout whatever is denied.
/// </summary>
public sealed class PolicyModel : IDisposable
{
    public static readonly string[] Namespaces = ["x", "y", "z"];
    public static readonly string[] PodNames = ["a", "b", "c"];
    public static readonly string[] Keys = Namespaces.SelectMany(n => PodNames.Select(p => $"{n}/{p}")).ToArray();
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, (V1Pod Pod, Netns Netns, IPAddress Address)> _pods = [];

    private PolicyModel(Kubernetes client) => Client = client;

    public Kubernetes Client { get; }

    public IPAddress Address(string key) => _pods[key].Address;

    public string Node(string key) => _pods[key].Pod.Spec.NodeName;

    public static async Task<PolicyModel> CreateAsync(LabFixture lab)
    {
        var model = new PolicyModel(lab.Client);
        foreach (var ns in Namespaces)
        {
            await lab.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns, Labels = new Dictionary<string, string> { ["ns"] = ns } } });
        }
        var index = 0;
        var started = await Task.WhenAll(Keys.Select(key => lab.RunPodAsync(Pod(key, $"n{index++ % 3 + 1}"), TimeSpan.FromSeconds(120))));
        foreach (var pod in started)
        {
            model._pods[$"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}"] = (pod, lab.PodNetns(pod), IPAddress.Parse(pod.Status.PodIP));
        }
        return model;
    }

    private static V1Pod Pod(string key, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = key[2..], NamespaceProperty = key[..1], Labels = new Dictionary<string, string> { ["pod"] = key[2..] } },
        Spec = new V1PodSpec
        {
            NodeName = node,
            Containers =
            [
                new V1Container
                {
                    Name = "server",
                    Image = "registry.k8s.io/e2e-test-images/agnhost:2.53",
                    Ports = ModelPort.All.Select(p => new V1ContainerPort { Name = $"serve-{p.Port}-{p.Protocol}", ContainerPort = p.Port, Protocol = p.Protocol.ToUpperInvariant() }).ToList(),
                },
            ],
        },
    };

    public void Dispose()
    {
        foreach (var (_, netns, _) in _pods.Values)
        {
            netns.Dispose();
        }
    }

    /// <summary>Back to the model's start: no policies, the original labels on namespaces and pods.</summary>
    public async Task ResetAsync()
    {
        foreach (var ns in Namespaces)
        {
            foreach (var policy in (await Client.NetworkingV1.ListNamespacedNetworkPolicyAsync(ns)).Items)
            {
                await Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(policy.Metadata.Name, ns);
            }
            await SetNamespaceLabelsAsync(ns, new() { ["ns"] = ns });
        }
        foreach (var key in Keys)
        {
            await SetPodLabelsAsync(key, new() { ["pod"] = key[2..] });
        }
    }

    public Task SetNamespaceLabelsAsync(string ns, Dictionary<string, string> labels) =>
        Client.CoreV1.PatchNamespaceAsync(LabelsPatch(labels), ns);

    public Task SetPodLabelsAsync(string key, Dictionary<string, string> labels) =>
        Client.CoreV1.PatchNamespacedPodAsync(LabelsPatch(labels), key[2..], key[..1]);

    private static V1Patch LabelsPatch(Dictionary<string, string> labels) =>
        new($"[{{\"op\":\"replace\",\"path\":\"/metadata/labels\",\"value\":{KubernetesJson.Serialize(labels)}}}]", V1Patch.PatchType.JsonPatch);

    /// <summary>Creates or replaces the policies in <paramref name="yaml"/> (--- separated).</summary>
    public async Task ApplyAsync(string yaml)
    {
        foreach (var document in yaml.Split("\n---\n"))
        {
            var policy = KubernetesYaml.Deserialize<V1NetworkPolicy>(document);
            var ns = policy.Metadata.NamespaceProperty;
            try
            {
                var old = await Client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(policy.Metadata.Name, ns);
                policy.Metadata.ResourceVersion = old.Metadata.ResourceVersion;
                await Client.NetworkingV1.ReplaceNamespacedNetworkPolicyAsync(policy, policy.Metadata.Name, ns);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(policy, ns);
            }
        }
    }

    public Task DeleteAsync(string ns, string name) => Client.NetworkingV1.DeleteNamespacedNetworkPolicyAsync(name, ns);

    /// <summary>Every ordered pair of distinct pods (loopback is ignored, as upstream) on every port: reachable or not.</summary>
    public async Task<Dictionary<(string From, string To, ModelPort Port), bool>> ProbeAsync()
    {
        var probes = new List<Task<((string, string, ModelPort), bool)>>();
        foreach (var from in Keys)
        {
            var targets = Keys.Where(k => k != from).SelectMany(to => ModelPort.All.Select(port => (To: to, Port: port))).ToArray();
            var netns = _pods[from].Netns;
            // Sockets made inside the source pod's namespace (a socket keeps its namespace), all in one visit.
            var sockets = netns.Run(() => targets.Select(t => new Socket(AddressFamily.InterNetwork, t.Port.Protocol == "tcp" ? SocketType.Stream : SocketType.Dgram, t.Port.Protocol == "tcp" ? ProtocolType.Tcp : ProtocolType.Udp)).ToArray());
            for (var i = 0; i < targets.Length; i++)
            {
                var (to, port) = targets[i];
                probes.Add(ProbeOneAsync(sockets[i], _pods[to].Address, port).ContinueWith(t => ((from, to, port), t.Result), TaskScheduler.Default));
            }
        }
        return (await Task.WhenAll(probes)).ToDictionary(r => r.Item1, r => r.Item2);
    }

    private static async Task<bool> ProbeOneAsync(Socket socket, IPAddress address, ModelPort port)
    {
        using var _ = socket;
        using var timeout = new CancellationTokenSource(s_timeout);
        try
        {
            await socket.ConnectAsync(address, port.Port, timeout.Token);
            if (port.Protocol == "tcp")
            {
                return true;
            }
            await socket.SendAsync(Encoding.ASCII.GetBytes("hostname"), SocketFlags.None, timeout.Token);
            var buffer = new byte[256];
            return await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Upstream's truth-table picture: one matrix per port, "." reachable, "X" not, "*" where observed differs from expected.</summary>
    public static string Describe(Func<string, string, ModelPort, bool> expected, Dictionary<(string, string, ModelPort), bool> observed)
    {
        var text = new StringBuilder();
        foreach (var port in ModelPort.All)
        {
            text.Append("\n").Append(port).Append(" (expected/observed)\n    ").AppendJoin(' ', Keys).Append('\n');
            foreach (var from in Keys)
            {
                text.Append(from).Append(' ');
                foreach (var to in Keys)
                {
                    if (from == to)
                    {
                        text.Append(" -  ");
                        continue;
                    }
                    var e = expected(from, to, port);
                    var o = observed[(from, to, port)];
                    text.Append(e ? '.' : 'X').Append(o ? '.' : 'X').Append(e == o ? "  " : "* ");
                }
                text.Append('\n');
            }
        }
        return text.ToString();
    }
}
