using k8s.Models;

namespace Podnet.Controllers.Tests;

/// <summary>Small builders for the typed objects the tests feed to the compute functions.</summary>
internal static class Objects
{
    public static V1Pod Pod(string name, string? ip = null, bool ready = true, string ns = "default",
        IDictionary<string, string>? labels = null, string? node = "n1", params V1ContainerPort[] ports)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = "uid-" + name, Labels = labels ?? new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Ports = ports.Length > 0 ? ports : null }] },
            Status = new V1PodStatus
            {
                Phase = "Running",
                Conditions = [new V1PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            },
        };
        if (ip is not null)
        {
            pod.Status.PodIP = ip.Split(',')[0];
            pod.Status.PodIPs = ip.Split(',').Select(a => new V1PodIP { Ip = a }).ToList();
        }
        return pod;
    }

    public static V1ContainerPort Port(string name, int number, string protocol = "TCP") => new() { Name = name, ContainerPort = number, Protocol = protocol };

    public static V1Service Service(string name = "web", string ns = "default", IDictionary<string, string>? selector = null,
        string clusterIp = "10.96.0.20", IList<string>? families = null, params V1ServicePort[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = "uid-svc-" + name },
        Spec = new V1ServiceSpec
        {
            Selector = selector ?? new Dictionary<string, string> { ["app"] = "web" },
            ClusterIP = clusterIp,
            IpFamilies = families ?? ["IPv4"],
            Ports = ports.Length > 0 ? ports : [ServicePort("http", 80, "8080")],
        },
    };

    public static V1ServicePort ServicePort(string name, int port, string? target, string protocol = "TCP") =>
        new() { Name = name, Port = port, TargetPort = target is null ? null : (IntOrString)target, Protocol = protocol };

    public static V1Node Node(string name, bool ready = true, bool unschedulable = false, IDictionary<string, string>? labels = null, params V1Taint[] taints) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = "uid-" + name, Labels = labels ?? new Dictionary<string, string>() },
        Spec = new V1NodeSpec { Unschedulable = unschedulable, Taints = taints.Length > 0 ? taints : null },
        Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }] },
    };
}
