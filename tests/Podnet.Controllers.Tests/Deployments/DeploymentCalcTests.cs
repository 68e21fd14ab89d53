using k8s.Models;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Deployments;

public sealed class DeploymentCalcTests
{
    private static V1Deployment Deployment(int replicas, string image = "web:1", string? surge = null, string? unavailable = null, string strategy = "RollingUpdate") => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Uid = "uid-deploy", Generation = 1 },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = PodTemplateHashTests.Template(image),
            Strategy = new V1DeploymentStrategy
            {
                Type = strategy,
                RollingUpdate = strategy == "RollingUpdate" ? new V1RollingUpdateDeployment { MaxSurge = surge is null ? null : (IntOrString)surge, MaxUnavailable = unavailable is null ? null : (IntOrString)unavailable } : null,
            },
        },
    };

    [Fact]
    public void Calc_NewDeployment_CreatesReplicaSetNamedByHashWithFullSize()
    {
        var deployment = Deployment(3);

        var plan = DeploymentCalc.Calc(deployment, [], []);

        var rs = Assert.IsType<V1ReplicaSet>(plan.Create);
        var hash = PodTemplateHash.Compute(deployment.Spec.Template);
        Assert.Equal($"web-{hash}", rs.Metadata.Name);
        Assert.Equal(3, rs.Spec.Replicas);
        Assert.Equal(hash, rs.Metadata.Labels["pod-template-hash"]);
        Assert.Equal(hash, rs.Spec.Template.Metadata.Labels["pod-template-hash"]);
        Assert.Equal(hash, rs.Spec.Selector.MatchLabels["pod-template-hash"]);
        Assert.Equal("web", rs.Spec.Selector.MatchLabels["app"]);
        Assert.Equal("1", rs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(("Deployment", "uid-deploy", true), (rs.Metadata.OwnerReferences[0].Kind, rs.Metadata.OwnerReferences[0].Uid, rs.Metadata.OwnerReferences[0].Controller));
        Assert.False(deployment.Spec.Template.Metadata.Labels.ContainsKey("pod-template-hash"));
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(5, 2)]
    [InlineData(4, 0)]
    public void Calc_Scale_ResizesTheOnlyReplicaSet(int from, int to)
    {
        var sim = new DeploymentSim(Deployment(from));
        sim.RunToCompletion();
        sim.Deployment.Spec.Replicas = to;

        sim.RunToCompletion();

        var rs = Assert.Single(sim.ReplicaSets);
        Assert.Equal(to, rs.Spec.Replicas);
        Assert.Equal((to, to, to), (sim.Deployment.Status.Replicas, sim.Deployment.Status.AvailableReplicas, sim.Deployment.Status.UpdatedReplicas));
    }

    [Theory]
    // replicas, maxSurge, maxUnavailable, availability lag -> bounds hold and the rollout completes
    [InlineData(10, null, null, 1)]
    [InlineData(10, "0", "1", 1)]
    [InlineData(10, "1", "0", 2)]
    [InlineData(3, "100%", "0", 1)]
    [InlineData(7, "30%", "30%", 3)]
    [InlineData(1, "0", "0", 1)]
    public void Calc_RollingUpdate_StaysWithinSurgeAndUnavailable_AndCompletes(int replicas, string? surge, string? unavailable, int lag)
    {
        var sim = new DeploymentSim(Deployment(replicas, surge: surge, unavailable: unavailable)) { AvailabilityLag = lag };
        sim.RunToCompletion();
        var (maxSurge, maxUnavailable) = RolloutMath.ResolveFenceposts(Ios(surge), Ios(unavailable), replicas);
        var before = sim.MinAvailableSeen;
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:2");

        sim.RunToCompletion();

        Assert.InRange(sim.MaxTotalSeen, replicas, replicas + maxSurge);
        Assert.True(sim.MinAvailableSeen >= Math.Min(before, replicas - maxUnavailable), $"availability dropped to {sim.MinAvailableSeen}");
        var newRs = sim.ReplicaSets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "web:2");
        Assert.True(replicas == newRs.Spec.Replicas, string.Join(" | ", sim.Trace));
        Assert.All(sim.ReplicaSets.Where(rs => rs != newRs), rs => Assert.Equal(0, rs.Spec.Replicas));
        Assert.Equal("2", newRs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal((replicas, replicas, replicas, 0), (sim.Deployment.Status.Replicas, sim.Deployment.Status.UpdatedReplicas, sim.Deployment.Status.AvailableReplicas, sim.Deployment.Status.UnavailableReplicas));
    }

    private static IntOrString? Ios(string? v) => v is null ? null : (IntOrString)v;

    [Fact]
    public void Calc_RollingUpdate_StepsAsUpstream_ThenWaitsForAvailability()
    {
        var sim = new DeploymentSim(Deployment(10)) { AvailabilityLag = 10 };
        sim.Sync();
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:2");

        var first = sim.Sync();
        var created = first.Create!.Metadata.Name;
        var createdSize = sim.ReplicaSets.Single(rs => rs.Metadata.Name == created).Status.Replicas;
        var second = sim.Sync();
        var third = sim.Sync();

        Assert.Equal(3, createdSize); // 25% of 10 rounded up, above the 10 old pods
        Assert.Equal(8, first.Scale.Values.Single()); // old 10 -> 8: 25% of 10 rounded down may be unavailable
        Assert.Equal(new Dictionary<string, int> { [created] = 5 }, second.Scale); // back up to 10 + 3
        Assert.Empty(third.Scale); // nothing more until new pods are available
        Assert.Null(third.Create);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(4)]
    public void Calc_ScaledInTheMiddleOfARollout_StillCompletes(int scaledTo)
    {
        var sim = new DeploymentSim(Deployment(10)) { AvailabilityLag = 2 };
        sim.RunToCompletion();
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:2");
        sim.Sync();
        sim.Sync();
        sim.Deployment.Spec.Replicas = scaledTo;

        var scaling = sim.Sync();
        sim.RunToCompletion();

        Assert.Equal(2, scaling.Scale.Count); // both ReplicaSets resized in proportion
        var newRs = sim.ReplicaSets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "web:2");
        Assert.Equal(scaledTo, newRs.Spec.Replicas);
        Assert.All(sim.ReplicaSets.Where(rs => rs != newRs), rs => Assert.Equal(0, rs.Spec.Replicas));
        Assert.Equal(scaledTo.ToString(), newRs.Metadata.Annotations[ProportionalScale.DesiredReplicasAnnotation]);
    }

    [Fact]
    public void Calc_Recreate_OldToZeroFirst_ThenNewAfterOldPodsAreGone()
    {
        var sim = new DeploymentSim(Deployment(3, strategy: "Recreate"));
        sim.RunToCompletion();
        var oldRs = Assert.Single(sim.ReplicaSets);
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:2");
        var oldPod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "old-pod", NamespaceProperty = "default", OwnerReferences = [new V1OwnerReference { Controller = true, Uid = oldRs.Metadata.Uid, Kind = "ReplicaSet", Name = oldRs.Metadata.Name, ApiVersion = "apps/v1" }] },
            Status = new V1PodStatus { Phase = "Running" },
        };

        var first = DeploymentCalc.Calc(sim.Deployment, sim.ReplicaSets, [oldPod]);
        oldRs.Spec.Replicas = 0;
        var waiting = DeploymentCalc.Calc(sim.Deployment, sim.ReplicaSets, [oldPod]);
        var after = DeploymentCalc.Calc(sim.Deployment, sim.ReplicaSets, []);

        Assert.Equal(new Dictionary<string, int> { [oldRs.Metadata.Name] = 0 }, first.Scale);
        Assert.Null(first.Create);
        Assert.Null(waiting.Create);
        Assert.Equal(3, after.Create!.Spec.Replicas);
    }

    [Fact]
    public void Calc_Rollback_ReusesTheMatchingOldReplicaSet()
    {
        var sim = new DeploymentSim(Deployment(2));
        sim.RunToCompletion();
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:2");
        sim.RunToCompletion();
        sim.Deployment.Spec.Template = PodTemplateHashTests.Template("web:1");

        sim.RunToCompletion();

        Assert.Equal(2, sim.ReplicaSets.Count);
        Assert.Equal(2, sim.ReplicaSets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "web:1").Spec.Replicas);
    }

    [Fact]
    public void Calc_RevisionHistoryLimit_DeletesOldestEmptyReplicaSets()
    {
        var sim = new DeploymentSim(Deployment(1));
        sim.Deployment.Spec.RevisionHistoryLimit = 1;
        foreach (var image in new[] { "web:1", "web:2", "web:3", "web:4" })
        {
            sim.Deployment.Spec.Template = PodTemplateHashTests.Template(image);
            sim.RunToCompletion();
        }

        Assert.Equal(["web:3", "web:4"], sim.ReplicaSets.Select(rs => rs.Spec.Template.Spec.Containers[0].Image).Order());
    }

    [Fact]
    public void Calc_NameTakenByAnotherTemplate_CountsCollision_ThenCreatesUnderNewHash()
    {
        var deployment = Deployment(2);
        var squatter = DeploymentCalc.NewReplicaSet(deployment, [], 1);
        squatter.Metadata.OwnerReferences = null;
        squatter.Spec.Template = PodTemplateHashTests.Template("other:1");

        var first = DeploymentCalc.Calc(deployment, [squatter], []);
        deployment.Status = first.Status;
        var second = DeploymentCalc.Calc(deployment, [squatter], []);

        Assert.Null(first.Create);
        Assert.Equal(1, first.Status.CollisionCount);
        Assert.Equal($"web-{PodTemplateHash.Compute(deployment.Spec.Template, 1)}", second.Create!.Metadata.Name);
        Assert.NotEqual(squatter.Metadata.Name, second.Create.Metadata.Name);
    }

    [Fact]
    public void Calc_Conditions_ProgressingReasonsThroughARollout_TransitionTimeKeptWhileStatusStays()
    {
        var t0 = new DateTime(2026, 3, 1, 10, 0, 0, DateTimeKind.Utc);
        var deployment = Deployment(2);
        var created = DeploymentCalc.Calc(deployment, [], [], t0);
        deployment.Status = created.Status;
        var rs = created.Create!;
        rs.Metadata.Uid = "uid-rs";
        rs.Status = new V1ReplicaSetStatus { Replicas = 2, ReadyReplicas = 1, AvailableReplicas = 1 };
        var progressing = DeploymentCalc.Calc(deployment, [rs], [], t0.AddMinutes(1));
        deployment.Status = progressing.Status;
        rs.Status = new V1ReplicaSetStatus { Replicas = 2, ReadyReplicas = 2, AvailableReplicas = 2 };
        var done = DeploymentCalc.Calc(deployment, [rs], [], t0.AddMinutes(2));

        string Reason(DeploymentPlan p) => p.Status.Conditions.Single(c => c.Type == "Progressing").Reason;
        Assert.Equal(["NewReplicaSetCreated", "ReplicaSetUpdated", "NewReplicaSetAvailable"], new[] { created, progressing, done }.Select(Reason));
        var last = done.Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal($"ReplicaSet \"{rs.Metadata.Name}\" has successfully progressed.", last.Message);
        Assert.Equal((t0.AddMinutes(2), t0), (last.LastUpdateTime!.Value, last.LastTransitionTime!.Value));
        Assert.Equal("True", done.Status.Conditions.Single(c => c.Type == "Available").Status);
        Assert.True(DeploymentStatusCalc.Differs(progressing.Status, done.Status));
    }

    [Fact]
    public void Calc_Paused_OnlyStatus()
    {
        var deployment = Deployment(3);
        deployment.Spec.Paused = true;
        var plan = DeploymentCalc.Calc(deployment, [], []);
        Assert.Null(plan.Create);
        Assert.Empty(plan.Scale);
        Assert.Equal("False", plan.Status.Conditions.Single(c => c.Type == "Available").Status);
    }
}
