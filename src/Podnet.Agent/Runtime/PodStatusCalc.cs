using k8s.Models;

namespace Podnet.Agent.Runtime;

public enum ContainerState
{
    /// <summary>Not started yet, or waiting for a restart.</summary>
    Waiting,
    Running,
    Terminated,
}

/// <summary>What the runtime knows of one container.</summary>
public sealed record ContainerFacts(
    string Name,
    string Image,
    ContainerState State,
    int RestartCount,
    bool Ready,
    DateTime? StartedAt = null,
    int? ExitCode = null,
    DateTime? FinishedAt = null,
    string? WaitingReason = null,
    string? Message = null,
    int? LastExitCode = null);

/// <summary>What the runtime knows of a pod on its node.</summary>
public sealed record PodFacts(bool SandboxReady, IReadOnlyList<string> PodIPs, string HostIP, DateTime? StartTime, IReadOnlyList<ContainerFacts> Containers)
{
    /// <summary>Same facts, lists compared item by item (the status built from them is then the same too).</summary>
    public bool SameAs(PodFacts other) =>
        SandboxReady == other.SandboxReady && HostIP == other.HostIP && StartTime == other.StartTime
        && PodIPs.SequenceEqual(other.PodIPs) && Containers.SequenceEqual(other.Containers);
}

/// <summary>
/// A pod's status as the kubelet reports it, computed from what the runtime knows: phase,
/// the four conditions (PodScheduled, Initialized, ContainersReady, Ready), IPs and one
/// containerStatus per container. Condition transition times are kept from the previous
/// status while a condition's value stays the same.
/// </summary>
public static class PodStatusCalc
{
    /// <summary>Every container runs and is ready: the pod's ContainersReady and Ready conditions.</summary>
    public static bool ContainersReady(PodFacts facts) => facts.Containers.Count > 0 && facts.Containers.All(c => c.Ready && c.State == ContainerState.Running);

    /// <summary>True when the pod's Ready condition in the API says what <paramref name="facts"/> say.</summary>
    public static bool ReadyAsPosted(V1Pod pod, PodFacts facts) =>
        (pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status == "True") == ContainersReady(facts);

    public static V1PodStatus Build(V1Pod pod, PodFacts facts, DateTime now)
    {
        var previous = pod.Status;
        var policy = pod.Spec?.RestartPolicy ?? "Always";
        var containersReady = ContainersReady(facts);
        var phase = Phase(facts, policy);
        var conditions = new List<V1PodCondition>
        {
            Condition(previous, "PodScheduled", true, now),
            Condition(previous, "Initialized", facts.SandboxReady, now),
            Condition(previous, "ContainersReady", containersReady, now, containersReady ? null : "ContainersNotReady"),
            Condition(previous, "Ready", containersReady, now, containersReady ? null : "ContainersNotReady"),
        };
        return new V1PodStatus
        {
            Phase = phase,
            Conditions = conditions,
            HostIP = facts.HostIP,
            HostIPs = [new V1HostIP { Ip = facts.HostIP }],
            PodIP = facts.PodIPs.FirstOrDefault(),
            PodIPs = facts.PodIPs.Select(ip => new V1PodIP { Ip = ip }).ToList(),
            StartTime = facts.StartTime,
            QosClass = previous?.QosClass ?? "BestEffort",
            ContainerStatuses = facts.Containers.Select(c => ContainerStatus(pod, c)).ToList(),
        };
    }

    /// <summary>The kubelet's phase rules, with a container waiting to restart counted as running.</summary>
    public static string Phase(PodFacts facts, string restartPolicy)
    {
        if (!facts.SandboxReady || facts.Containers.Count == 0)
        {
            return "Pending";
        }
        var pending = facts.Containers.Count(c => c.State == ContainerState.Waiting && c.RestartCount == 0);
        var running = facts.Containers.Count(c => c.State == ContainerState.Running || (c.State == ContainerState.Waiting && c.RestartCount > 0));
        var failed = facts.Containers.Count(c => c.State == ContainerState.Terminated && c.ExitCode != 0);
        var succeeded = facts.Containers.Count(c => c.State == ContainerState.Terminated && c.ExitCode == 0);
        if (pending > 0)
        {
            return "Pending";
        }
        if (running > 0)
        {
            return "Running";
        }
        return restartPolicy switch
        {
            "Always" => "Running",
            "OnFailure" when failed > 0 => "Running",
            _ when failed > 0 => "Failed",
            _ when succeeded == facts.Containers.Count => "Succeeded",
            _ => "Running",
        };
    }

    private static V1ContainerStatus ContainerStatus(V1Pod pod, ContainerFacts c)
    {
        var state = c.State switch
        {
            ContainerState.Running => new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = c.StartedAt } },
            ContainerState.Terminated => new V1ContainerState
            {
                Terminated = new V1ContainerStateTerminated
                {
                    ExitCode = c.ExitCode ?? 0,
                    ContainerID = ContainerId(pod, c.Name),
                    FinishedAt = c.FinishedAt,
                    Reason = c.ExitCode == 0 ? "Completed" : "Error",
                    StartedAt = c.StartedAt,
                    Message = c.Message,
                },
            },
            _ => new V1ContainerState { Waiting = new V1ContainerStateWaiting { Message = c.Message, Reason = c.WaitingReason ?? "ContainerCreating" } },
        };
        V1ContainerState? last = c.LastExitCode is { } code
            ? new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = code, Reason = code == 0 ? "Completed" : "Error" } }
            : null;
        return new V1ContainerStatus
        {
            Name = c.Name,
            Image = c.Image,
            ImageID = "",
            ContainerID = c.State == ContainerState.Waiting && c.RestartCount == 0 ? null : ContainerId(pod, c.Name),
            Ready = c.Ready && c.State == ContainerState.Running,
            Started = c.State == ContainerState.Running,
            RestartCount = c.RestartCount,
            State = state,
            LastState = last ?? new V1ContainerState(),
        };
    }

    /// <summary>podnet://UID/NAME: the runtime's id for a container, in the usual scheme://id form.</summary>
    public static string ContainerId(V1Pod pod, string name) => $"podnet://{pod.Metadata?.Uid}/{name}";

    private static V1PodCondition Condition(V1PodStatus? previous, string type, bool value, DateTime now, string? reason = null)
    {
        var status = value ? "True" : "False";
        var before = previous?.Conditions?.FirstOrDefault(c => c.Type == type);
        var since = before is not null && before.Status == status ? before.LastTransitionTime ?? now : now;
        return new V1PodCondition { Status = status, Type = type, LastTransitionTime = since, Reason = reason };
    }
}
