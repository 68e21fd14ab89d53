using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Podnet.Check;

/// <summary>What a check run left: its namespace (kept or deleted) and one result per test, in plan order.</summary>
public sealed record CheckReport(string Namespace, IReadOnlyList<CheckResult> Results, bool Kept)
{
    public bool Passed => Results.All(r => r.Passed);
}

/// <summary>Where the check runs: the cluster, how probes get into pods, and the lab's architecture and outside host when it is a lab.</summary>
public sealed record CheckTarget(IKubernetes Client, IProbeExec Exec, string? Architecture, string? OutsideAddress, string ClusterDomain = "cluster.local");

/// <summary>
/// One run of `podnet check`: a namespace of its own with the test pods, Services and
/// policies, real probes from inside the pods and from the outside host, and the namespace
/// deleted at the end whatever happened (also when the run is cancelled), unless kept.
/// </summary>
/// <remarks>
/// Probes run four at a time: most end in milliseconds, and the ones that expect a drop wait
/// their short timeout side by side instead of one after another.
/// </remarks>
public sealed class CheckRunner(CheckTarget target, TextWriter log)
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(250);
    private const int Parallel = 4;

    public async Task<CheckReport> RunAsync(string? pattern, bool keep, CancellationToken token)
    {
        var ns = "podnet-check-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        var client = target.Client;
        try
        {
            var nodes = (await client.CoreV1.ListNodeAsync(cancellationToken: token)).Items
                .Where(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true).ToArray();
            var dnsNodes = await DnsNodesAsync(token);
            var placement = CheckManifests.Place(nodes.Select(n => n.Metadata.Name).ToArray(), dnsNodes);
            log.WriteLine($"namespace {ns}: pods on {placement.NodeA} and {placement.NodeB}{(placement.NoDnsNode is { } d ? $", and {d} (no DNS endpoint)" : "")}");
            await client.CoreV1.CreateNamespaceAsync(CheckManifests.Namespace(ns), cancellationToken: token);
            foreach (var policy in CheckManifests.Policies(ns))
            {
                await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(policy, ns, cancellationToken: token);
            }
            foreach (var service in CheckManifests.Services(ns))
            {
                await client.CoreV1.CreateNamespacedServiceAsync(service, ns, cancellationToken: token);
            }
            foreach (var pod in CheckManifests.Pods(ns, placement))
            {
                await client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: token);
            }
            var pods = await WaitForPodsAsync(ns, token);
            target.Exec.Know(pods);
            var web = await WaitForServiceAsync(ns, token);
            var facts = new CheckFacts
            {
                Namespace = ns,
                ClusterDomain = target.ClusterDomain,
                Pods = pods.ToDictionary(p => p.Metadata.Name, p => (p.Spec.NodeName, p.Status.PodIP)),
                NodeAddresses = nodes.ToDictionary(n => n.Metadata.Name, n => n.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address ?? ""),
                KubernetesServiceIp = (await client.CoreV1.ReadNamespacedServiceAsync("kubernetes", "default", cancellationToken: token)).Spec?.ClusterIP,
                WebClusterIp = web.Spec?.ClusterIP,
                EmptyClusterIp = (await client.CoreV1.ReadNamespacedServiceAsync(CheckPlanner.Empty, ns, cancellationToken: token)).Spec?.ClusterIP,
                WebNodePort = web.Spec?.Ports?.FirstOrDefault(p => p.Protocol is null or "TCP")?.NodePort,
                WebLoadBalancerIp = web.Status?.LoadBalancer?.Ingress?.FirstOrDefault()?.Ip,
                DnsNodes = dnsNodes,
                Architecture = target.Architecture,
                OutsideAddress = target.OutsideAddress,
            };
            var cases = CheckPlanner.Build(facts).Where(c => CheckPlanner.Matches(c.Name, pattern)).ToArray();
            var results = await RunCasesAsync(cases, token);
            return new CheckReport(ns, results, keep);
        }
        finally
        {
            if (!keep)
            {
                await DeleteAsync(ns);
            }
        }
    }

    private async Task<CheckResult[]> RunCasesAsync(IReadOnlyList<CheckCase> cases, CancellationToken token)
    {
        using var slots = new SemaphoreSlim(Parallel);
        return await Task.WhenAll(cases.Select(async c =>
        {
            await slots.WaitAsync(token);
            try
            {
                return await RunCaseAsync(c, token);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    private async Task<CheckResult> RunCaseAsync(CheckCase test, CancellationToken token)
    {
        if (test.SkipReason is { } reason)
        {
            return new CheckResult(test.Name, test.Expected, null, TimeSpan.Zero, reason);
        }
        if (test.Probe is not { } probe)
        {
            return new CheckResult(test.Name, test.Expected, new Observation(null, test.Failure ?? "no probe"), TimeSpan.Zero);
        }
        var clock = Stopwatch.StartNew();
        var output = await target.Exec.RunAsync(probe.From, ProbeCommands.Argv(probe), probe.Timeout, token);
        return new CheckResult(test.Name, test.Expected, ProbeCommands.Read(probe, output), clock.Elapsed);
    }

    /// <summary>Nodes with a ready endpoint of kube-system/kube-dns (none when the cluster has no such Service).</summary>
    private async Task<IReadOnlySet<string>> DnsNodesAsync(CancellationToken token)
    {
        var slices = await target.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("kube-system", labelSelector: "kubernetes.io/service-name=kube-dns", cancellationToken: token);
        return slices.Items.SelectMany(s => s.Endpoints ?? []).Where(e => e.Conditions?.Ready != false && e.NodeName is not null)
            .Select(e => e.NodeName).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<IReadOnlyList<V1Pod>> WaitForPodsAsync(string ns, CancellationToken token)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var pods = (await target.Client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: token)).Items;
            var waiting = pods.Where(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") != true || p.Status.PodIP is null).ToArray();
            if (waiting.Length == 0)
            {
                return pods.ToArray();
            }
            if (deadline.Elapsed > s_readyTimeout)
            {
                throw new TimeoutException($"the check's pods were not Ready within {s_readyTimeout.TotalSeconds} s: " +
                    string.Join(", ", waiting.Select(p => $"{p.Metadata.Name} ({p.Status?.Phase ?? "no status"}{(p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason is { } r ? ", " + r : "")})")));
            }
            await Task.Delay(s_poll, token);
        }
    }

    /// <summary>The web Service once it has both endpoints and (bounded) its LoadBalancer address; without one the LoadBalancer tests fail.</summary>
    private async Task<V1Service> WaitForServiceAsync(string ns, CancellationToken token)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var service = await target.Client.CoreV1.ReadNamespacedServiceAsync(CheckPlanner.Web, ns, cancellationToken: token);
            var slices = await target.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync(ns, labelSelector: "kubernetes.io/service-name=" + CheckPlanner.Web, cancellationToken: token);
            var ready = slices.Items.SelectMany(s => s.Endpoints ?? []).Count(e => e.Conditions?.Ready != false);
            if ((ready >= 2 && service.Status?.LoadBalancer?.Ingress is { Count: > 0 }) || deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                if (ready < 2)
                {
                    log.WriteLine($"service {ns}/{CheckPlanner.Web}: {ready} ready endpoints of 2 after 20 s");
                }
                return service;
            }
            await Task.Delay(s_poll, token);
        }
    }

    private async Task DeleteAsync(string ns)
    {
        // Not the run's token: a cancelled run still cleans up, bounded so that a dead server cannot hold the exit.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await target.Client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: bound.Token);
            log.WriteLine($"namespace {ns} deleted");
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            log.WriteLine($"could not delete namespace {ns}: {e.Message} (delete it with: podnet delete namespace {ns})");
        }
    }
}
