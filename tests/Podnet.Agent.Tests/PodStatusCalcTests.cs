using k8s.Models;
using Podnet.Agent.Runtime;

namespace Podnet.Agent.Tests;

public sealed class PodStatusCalcTests
{
    private static readonly DateTime T0 = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);

    private static V1Pod Pod(string restartPolicy = "Always", V1PodStatus? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Uid = "u-1" },
        Spec = new V1PodSpec { RestartPolicy = restartPolicy, Containers = [new V1Container { Name = "main", Image = "agnhost" }] },
        Status = status,
    };

    private static PodFacts Facts(params ContainerFacts[] containers) => new(true, ["10.244.1.5"], "172.18.0.11", T0, containers);

    [Theory]
    [InlineData("Always", ContainerState.Running, 0, 0, "Running")]
    [InlineData("Always", ContainerState.Waiting, 0, 0, "Pending")]
    [InlineData("Always", ContainerState.Waiting, 0, 2, "Running")]
    [InlineData("Always", ContainerState.Terminated, 0, 0, "Running")]
    [InlineData("Never", ContainerState.Terminated, 0, 0, "Succeeded")]
    [InlineData("Never", ContainerState.Terminated, 3, 0, "Failed")]
    [InlineData("OnFailure", ContainerState.Terminated, 3, 0, "Running")]
    [InlineData("OnFailure", ContainerState.Terminated, 0, 0, "Succeeded")]
    public void Phase_FollowsTheKubeletsRules(string policy, ContainerState state, int exitCode, int restarts, string phase) =>
        Assert.Equal(phase, PodStatusCalc.Phase(Facts(new ContainerFacts("main", "agnhost", state, restarts, false, ExitCode: exitCode)), policy));

    [Fact]
    public void ReadyAsPosted_NoticesReadyFalseWrittenByTheNodeLifecycleController()
    {
        var running = Facts(new ContainerFacts("main", "agnhost", ContainerState.Running, 0, true, StartedAt: T0));
        var posted = Pod(status: PodStatusCalc.Build(Pod(), running, T0));
        Assert.True(PodStatusCalc.ReadyAsPosted(posted, running));

        posted.Status.Conditions.Single(c => c.Type == "Ready").Status = "False";
        Assert.False(PodStatusCalc.ReadyAsPosted(posted, running));
        Assert.True(PodStatusCalc.ReadyAsPosted(posted, Facts(new ContainerFacts("main", "agnhost", ContainerState.Waiting, 0, false))));
    }

    [Fact]
    public void Phase_WithoutSandbox_IsPending() =>
        Assert.Equal("Pending", PodStatusCalc.Phase(new PodFacts(false, [], "172.18.0.11", null, [new ContainerFacts("main", "x", ContainerState.Running, 0, true)]), "Always"));

    [Fact]
    public void Build_ReadyRunningPod_HasAllFourConditionsTrue_AndItsAddresses()
    {
        var status = PodStatusCalc.Build(Pod(), Facts(new ContainerFacts("main", "agnhost", ContainerState.Running, 0, true, StartedAt: T0)), T0);
        Assert.Equal("Running", status.Phase);
        Assert.Equal(["PodScheduled", "Initialized", "ContainersReady", "Ready"], status.Conditions.Select(c => c.Type));
        Assert.All(status.Conditions, c => Assert.Equal("True", c.Status));
        Assert.Equal("10.244.1.5", status.PodIP);
        Assert.Equal("172.18.0.11", status.HostIP);
        var container = Assert.Single(status.ContainerStatuses);
        Assert.True(container.Ready);
        Assert.Equal(T0, container.State.Running.StartedAt);
        Assert.Equal("podnet://u-1/main", container.ContainerID);
    }

    [Fact]
    public void Build_NotReady_KeepsTransitionTimesWhileAConditionStaysTheSame()
    {
        var first = PodStatusCalc.Build(Pod(), Facts(new ContainerFacts("main", "agnhost", ContainerState.Running, 0, false, StartedAt: T0)), T0);
        Assert.Equal("False", first.Conditions.Single(c => c.Type == "Ready").Status);
        Assert.Equal("ContainersNotReady", first.Conditions.Single(c => c.Type == "Ready").Reason);
        var later = T0.AddMinutes(1);
        var second = PodStatusCalc.Build(Pod(status: first), Facts(new ContainerFacts("main", "agnhost", ContainerState.Running, 0, true, StartedAt: T0)), later);
        Assert.Equal(T0, second.Conditions.Single(c => c.Type == "PodScheduled").LastTransitionTime);
        Assert.Equal(later, second.Conditions.Single(c => c.Type == "Ready").LastTransitionTime);
    }

    [Fact]
    public void Build_CrashLooping_ShowsWaitingWithTheLastTermination()
    {
        var status = PodStatusCalc.Build(Pod(), Facts(new ContainerFacts("main", "busybox", ContainerState.Waiting, 3, false, WaitingReason: "CrashLoopBackOff", LastExitCode: 1)), T0);
        var container = Assert.Single(status.ContainerStatuses);
        Assert.Equal("CrashLoopBackOff", container.State.Waiting.Reason);
        Assert.Equal(1, container.LastState.Terminated.ExitCode);
        Assert.Equal(3, container.RestartCount);
        Assert.Equal("Running", status.Phase);
    }
}

public sealed class PodStatusReasonTests
{
    private static readonly DateTime T0 = new(2026, 12, 7, 15, 0, 0, DateTimeKind.Utc);

    private static V1Pod Pod() => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Uid = "u-1" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox" }, new V1Container { Name = "side", Image = "busybox" }] },
    };

    [Theory]
    [InlineData("CreateContainerConfigError", "couldn't find key k in ConfigMap default/c")]
    [InlineData("CreateContainerError", "exec: \"x\": executable file not found in $PATH")]
    [InlineData("ErrImagePull", "Failed to pull image \"agnhost\": agnhost porter is not built into Podnet")]
    public void Build_ContainerThatCannotStart_IsWaitingWithItsReasonAndMessage_PodPending(string reason, string message)
    {
        var status = PodStatusCalc.Build(Pod(), new PodFacts(true, ["10.244.1.5"], "172.18.0.11", T0,
        [
            new ContainerFacts("main", "busybox", ContainerState.Waiting, 0, false, WaitingReason: reason, Message: message),
            new ContainerFacts("side", "busybox", ContainerState.Running, 0, true, StartedAt: T0),
        ]), T0);
        Assert.Equal("Pending", status.Phase);
        var main = status.ContainerStatuses.Single(c => c.Name == "main");
        Assert.Equal(reason, main.State.Waiting.Reason);
        Assert.Equal(message, main.State.Waiting.Message);
        Assert.Null(main.ContainerID);
        Assert.NotNull(status.ContainerStatuses.Single(c => c.Name == "side").State.Running);
        Assert.Equal("False", status.Conditions.Single(c => c.Type == "Ready").Status);
    }

    [Fact]
    public void Build_CrashLoop_IsWaitingCrashLoopBackOff_WithTheLastExit_PodRunning()
    {
        var status = PodStatusCalc.Build(Pod(), new PodFacts(true, ["10.244.1.5"], "172.18.0.11", T0,
        [
            new ContainerFacts("main", "busybox", ContainerState.Waiting, 2, false, WaitingReason: "CrashLoopBackOff",
                Message: "back-off 40s restarting failed container=main pod=web-1_default(u-1)", LastExitCode: 3),
            new ContainerFacts("side", "busybox", ContainerState.Running, 0, true, StartedAt: T0),
        ]), T0);
        Assert.Equal("Running", status.Phase);
        var main = status.ContainerStatuses.Single(c => c.Name == "main");
        Assert.Equal("CrashLoopBackOff", main.State.Waiting.Reason);
        Assert.Equal(3, main.LastState.Terminated.ExitCode);
        Assert.Equal("Error", main.LastState.Terminated.Reason);
    }
}
