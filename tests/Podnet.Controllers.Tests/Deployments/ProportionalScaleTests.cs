using k8s.Models;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Deployments;

public sealed class ProportionalScaleTests
{
    private static V1Deployment Deployment(int replicas, bool paused = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Uid = "uid-deploy" },
        Spec = new V1DeploymentSpec { Replicas = replicas, Paused = paused, Template = PodTemplateHashTests.Template("web:2") },
    };

    private static V1ReplicaSet Rs(string name, string image, int replicas, int desiredAnnotation, int maxAnnotation, int minutesOld, int available = 0) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = "default",
            CreationTimestamp = new DateTime(2026, 1, 1, 12, 0, 0).AddMinutes(-minutesOld),
            OwnerReferences = [new V1OwnerReference { Controller = true, Uid = "uid-deploy", Kind = "Deployment", Name = "web", ApiVersion = "apps/v1" }],
            Annotations = new Dictionary<string, string>
            {
                [ProportionalScale.DesiredReplicasAnnotation] = desiredAnnotation.ToString(),
                [ProportionalScale.MaxReplicasAnnotation] = maxAnnotation.ToString(),
            },
        },
        Spec = new V1ReplicaSetSpec { Replicas = replicas, Template = PodTemplateHashTests.Template(image) },
        Status = new V1ReplicaSetStatus { Replicas = replicas, AvailableReplicas = available },
    };

    [Theory]
    // mid-rollout of 10 (surge 3: max 13), new 8 + old 5; spec.replicas becomes …
    [InlineData(20, 15, 10)] // allowed 20 + 5 = 25: +12 spread as 7 and 5
    [InlineData(5, 4, 3)]    // allowed 5 + 2 = 7: -6 spread as -4 and -2
    [InlineData(0, 0, 0)]
    public void Calc_ReplicasChangedMidRollout_SpreadsProportionally(int replicas, int newSize, int oldSize)
    {
        var rsNew = Rs("web-new", "web:2", 8, 10, 13, 1);
        var rsOld = Rs("web-old", "web:1", 5, 10, 13, 10);

        var plan = DeploymentCalc.Calc(Deployment(replicas), [rsNew, rsOld], []);

        Assert.Null(plan.Create);
        Assert.Equal((newSize, oldSize), (plan.Scale.GetValueOrDefault("web-new", 8), plan.Scale.GetValueOrDefault("web-old", 5)));
        Assert.Equal(replicas, plan.DesiredReplicas);
    }

    [Fact]
    public void Calc_LoneActiveReplicaSet_ResizedToReplicas()
    {
        var plan = DeploymentCalc.Calc(Deployment(7), [Rs("web-new", "web:2", 3, 3, 4, 1, available: 3), Rs("web-old", "web:1", 0, 3, 4, 10)], []);
        Assert.Equal(new Dictionary<string, int> { ["web-new"] = 7 }, plan.Scale);
    }

    [Fact]
    public void Calc_SaturatedNewReplicaSet_OldOnesGoToZero()
    {
        var plan = DeploymentCalc.Calc(Deployment(3), [Rs("web-new", "web:2", 3, 3, 4, 1, available: 3), Rs("web-old", "web:1", 1, 4, 5, 10, available: 1)], []);
        Assert.Equal(new Dictionary<string, int> { ["web-old"] = 0 }, plan.Scale);
    }

    [Fact]
    public void Calc_PausedDeployment_StillScales_ButDoesNotRoll()
    {
        var scaled = DeploymentCalc.Calc(Deployment(6, paused: true), [Rs("web-old", "web:1", 3, 3, 4, 10, available: 3)], []);
        var sameSize = DeploymentCalc.Calc(Deployment(3, paused: true), [Rs("web-old", "web:1", 3, 3, 4, 10, available: 3)], []);

        Assert.Equal(new Dictionary<string, int> { ["web-old"] = 6 }, scaled.Scale);
        Assert.Empty(sameSize.Scale);
        Assert.Null(sameSize.Create); // the template changed, but the Deployment is paused
    }

    [Fact]
    public void IsScalingEvent_OnlyActiveReplicaSetsWithAStaleAnnotation()
    {
        Assert.True(ProportionalScale.IsScalingEvent(Deployment(4), [Rs("a", "web:1", 3, 3, 4, 1)]));
        Assert.False(ProportionalScale.IsScalingEvent(Deployment(4), [Rs("a", "web:1", 0, 3, 4, 1)]));
        Assert.False(ProportionalScale.IsScalingEvent(Deployment(3), [Rs("a", "web:1", 2, 3, 4, 1)]));
    }
}
