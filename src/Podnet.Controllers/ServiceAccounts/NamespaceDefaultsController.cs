using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.ServiceAccounts;

/// <summary>
/// serviceaccounts and rootcacert: kube-controller-manager's serviceaccount and
/// root-ca-cert-publisher controllers, for an API server that has no controller manager (a bare
/// kube-apiserver refuses every pod of a namespace without a `default` ServiceAccount). One
/// class, two names, so each is selectable in --controllers as upstream's are.
/// </summary>
internal sealed class NamespaceDefaultsController : QueueController
{
    private readonly IKubernetes _client;
    private readonly bool _rootCa;
    private readonly string? _caPem;

    public NamespaceDefaultsController(IKubernetes client, SharedInformers informers, ControllerOptions options, bool rootCa)
        : base(informers, options)
    {
        _client = client;
        _rootCa = rootCa;
        _caPem = options.RootCaPem;
        if (rootCa && _caPem is null)
        {
            // As kube-controller-manager without --root-ca-file: nothing to publish.
            options.Log?.Invoke("rootcacert: no cluster CA given (--root-ca-file, or a kubeconfig with a certificate authority): kube-root-ca.crt is not published");
        }
        WakeOn(informers.Namespaces);
        if (rootCa)
        {
            WakeOn(informers.RootCaConfigMaps);
        }
        else
        {
            WakeOn(informers.ServiceAccounts);
        }
    }

    public override string Name => _rootCa ? "rootcacert" : "serviceaccounts";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var namespaces = Informers.Namespaces.Cache.List();
        var actions = _rootCa
            ? _caPem is null ? [] : NamespaceDefaultsCalc.RootCa(namespaces, Informers.RootCaConfigMaps.Cache.List(), _caPem)
            : NamespaceDefaultsCalc.ServiceAccounts(namespaces, Informers.ServiceAccounts.Cache.List());
        foreach (var action in actions)
        {
            try
            {
                await ApplyAsync(action, cancellationToken).ConfigureAwait(false);
            }
            // Made meanwhile by someone else, or the namespace went: the next event brings the truth.
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
            {
            }
            // A namespace being deleted refuses new objects (403 with a NamespaceTerminating cause).
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden && e.Response.Content.Contains("NamespaceTerminating", StringComparison.Ordinal))
            {
            }
        }
    }

    private Task ApplyAsync(NamespaceDefaultsAction action, CancellationToken token) => action switch
    {
        NamespaceDefaultsAction.CreateServiceAccount(var ns) => _client.CoreV1.CreateNamespacedServiceAccountAsync(
            new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = NamespaceDefaultsCalc.ServiceAccountName } }, ns, cancellationToken: token),
        NamespaceDefaultsAction.CreateRootCa(var ns) => _client.CoreV1.CreateNamespacedConfigMapAsync(RootCa(null), ns, cancellationToken: token),
        NamespaceDefaultsAction.UpdateRootCa(var ns, var rv) => _client.CoreV1.ReplaceNamespacedConfigMapAsync(RootCa(rv), NamespaceDefaultsCalc.RootCaName, ns, cancellationToken: token),
        _ => throw new InvalidOperationException($"unknown action {action}"),
    };

    private V1ConfigMap RootCa(string? resourceVersion) => new()
    {
        Metadata = new V1ObjectMeta { Name = NamespaceDefaultsCalc.RootCaName, ResourceVersion = resourceVersion },
        Data = new Dictionary<string, string> { [NamespaceDefaultsCalc.RootCaKey] = _caPem! },
    };
}
