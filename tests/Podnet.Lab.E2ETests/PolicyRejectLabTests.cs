using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.TestServer;

namespace Podnet.Lab.E2ETests;

/// <summary>`lab up --policy-deny reject`: traffic a NetworkPolicy denies is refused at once instead of dropped.</summary>
public sealed class PolicyRejectLabTests
{
    [PrivilegedFact]
    public async Task LabUpPolicyDenyReject_ADeniedConnectionIsRefused_NotLeftToTimeOut()
    {
        using var lab = new TempLab("rj");
        lab.Up("--nodes", "1", "--policy-deny", "reject");
        var server = await lab.View.RunPodAsync(LabFixtureView.ServerPod("server", "n1"));
        var client = await lab.View.RunPodAsync(LabFixtureView.ServerPod("client", "n1"));
        using var from = lab.View.PodNetns(client);
        var before = await from.Run(() => ConnectProbe.RunAsync(server.Status.PodIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
        Assert.Equal(ConnectOutcome.Connected, before.Outcome);

        await lab.View.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "deny-server" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "server" } },
                PolicyTypes = ["Ingress"],
            },
        }, "default");
        // The policy takes effect within a second; each probe waits at most 3 s, and a refused
        // one returns at once: a drop would show as Timeout here.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        ConnectResult after;
        do
        {
            after = await from.Run(() => ConnectProbe.RunAsync(server.Status.PodIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
        }
        while (after.Outcome == ConnectOutcome.Connected && DateTime.UtcNow < deadline);
        Assert.Equal(ConnectOutcome.Refused, after.Outcome);

        // A pod is isolated before its containers start (the agent's pre-start hook): a command
        // whose first act is a connection the policy denies is refused, never let through while
        // the policy catches up with the new pod.
        await lab.View.Client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "early-no-egress" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "early" } },
                PolicyTypes = ["Egress"],
            },
        }, "default");
        await lab.View.Client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "early", Labels = new Dictionary<string, string> { ["app"] = "early" } },
            Spec = new V1PodSpec
            {
                NodeName = "n1",
                Containers =
                [
                    new V1Container
                    {
                        Name = "main",
                        Image = "busybox",
                        Command = ["/bin/sh", "-c", $"if curl -s --max-time 3 -o /dev/null http://{client.Status.PodIP}:8080/hostname; then echo CONNECTED; else echo DENIED; fi; exec sleep 3600"],
                    },
                ],
            },
        }, "default");
        var kubeconfig = (string)lab.Status["kubeconfig"]!;
        var logs = "";
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!logs.Contains("CONNECTED", StringComparison.Ordinal) && !logs.Contains("DENIED", StringComparison.Ordinal) && DateTime.UtcNow < until)
        {
            await Task.Delay(300);
            logs = Podnet.Kernel.ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, "logs", "early"], timeout: TimeSpan.FromSeconds(30)).StandardOutput;
        }
        Assert.Equal("DENIED", logs.Trim());
    }
}
