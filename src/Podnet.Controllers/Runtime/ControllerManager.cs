using k8s;
using Podnet.Controllers.Deployments;
using Podnet.Controllers.Disruption;
using Podnet.Controllers.EndpointSlices;
using Podnet.Controllers.Informers;
using Podnet.Controllers.LoadBalancer;
using Podnet.Controllers.Namespaces;
using Podnet.Controllers.NodeIpam;
using Podnet.Controllers.Scheduling;
using Podnet.Controllers.StatefulSets;

namespace Podnet.Controllers.Runtime;

/// <summary>
/// Runs the chosen controllers over shared informers: what <c>podnet server --controllers LIST</c>
/// and <c>podnet lab up</c> call.
/// </summary>
public static class ControllerManager
{
    /// <summary>Every controller, in the order they start.</summary>
    public static readonly IReadOnlyList<string> AllNames = ["nodeipam", "scheduler", "deployments", "endpointslices", "loadbalancer", "namespaces",
        "statefulsets", "disruption", "nodelifecycle", "daemonsets", "endpoints", "serviceaccounts", "rootcacert"];

    /// <summary>
    /// Parses a --controllers value: "all" (or empty) for every controller, "none" for none, else a
    /// comma list of names. Throws <see cref="ArgumentException"/> naming an unknown controller and the known ones.
    /// </summary>
    public static IReadOnlyList<string> ParseList(string? list)
    {
        if (string.IsNullOrWhiteSpace(list) || list.Trim() == "all")
        {
            return AllNames;
        }
        if (list.Trim() == "none")
        {
            return [];
        }
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var unknown = names.Where(n => !AllNames.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"unknown controller(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllNames)}", nameof(list));
        }
        return names;
    }

    /// <summary>Makes the named controllers, sharing <paramref name="informers"/>.</summary>
    public static IReadOnlyList<IController> Create(IKubernetes client, SharedInformers informers, ControllerOptions options, IEnumerable<string> names) =>
        names.Select(name => (IController)(name switch
        {
            "nodeipam" => new NodeIpamController(client, informers, options),
            "scheduler" => new SchedulerController(client, informers, options),
            "deployments" => new DeploymentController(client, informers, options),
            "endpointslices" => new EndpointSliceController(client, informers, options),
            "loadbalancer" => new LoadBalancerController(client, informers, options),
            "namespaces" => new NamespaceController(client, informers, options),
            "statefulsets" => new StatefulSetController(client, informers, options),
            "disruption" => new DisruptionController(client, informers, options),
            "nodelifecycle" => new NodeLifecycle.NodeLifecycleController(client, informers, options),
            "daemonsets" => new DaemonSets.DaemonSetController(client, informers, options),
            "endpoints" => new Endpoints.EndpointsController(client, informers, options),
            "serviceaccounts" => new ServiceAccounts.NamespaceDefaultsController(client, informers, options, rootCa: false),
            "rootcacert" => new ServiceAccounts.NamespaceDefaultsController(client, informers, options, rootCa: true),
            _ => throw new ArgumentException($"unknown controller {name}", nameof(names)),
        })).ToList();

    /// <summary>Runs the named controllers until cancelled (then returns normally).</summary>
    public static async Task RunAsync(IKubernetes client, ControllerOptions options, IEnumerable<string> names, CancellationToken cancellationToken, InformerOptions? informerOptions = null)
    {
        var informers = new SharedInformers(client, informerOptions ?? new InformerOptions { OnError = e => options.Log?.Invoke($"informer: {e.Message}") });
        var controllers = Create(client, informers, options, names);
        var tasks = controllers.Select(c => Task.Run(() => c.RunAsync(cancellationToken), cancellationToken)).Append(informers.RunAsync(cancellationToken));
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
