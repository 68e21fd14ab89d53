using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Podnet.Controllers.Runtime;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// The bare-kube-apiserver path: a server that, like kube-apiserver without
/// kube-controller-manager, makes no `default` ServiceAccount and no kube-root-ca.crt, refuses
/// a namespace's pods; Podnet's serviceaccounts and rootcacert controllers, run as
/// system:kube-controller-manager under the server's RBAC, make both, and the pod is admitted.
/// </summary>
public sealed class NamespaceDefaultsControllersTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-api-bare-").FullName;
    private ApiServerHost _host = null!;
    private Kubernetes _admin = null!;

    public async Task InitializeAsync()
    {
        _host = await ApiServerHost.StartAsync(new ApiServerOptions
        {
            StateDirectory = _directory,
            Port = 0,
            BindAddresses = [IPAddress.Loopback],
            Controllers = [],
            NamespaceDefaults = false,
        });
        _admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_host.KubeconfigPath));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static V1Pod Pod() => new()
    {
        Metadata = new V1ObjectMeta { Name = "p" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "agnhost" }] },
    };

    [Fact]
    public async Task WithoutNamespaceDefaults_PodsAreRefused_UntilTheControllersMakeTheServiceAccountAndRootCa()
    {
        await _admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "bare" } });
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => _admin.CoreV1.CreateNamespacedPodAsync(Pod(), "bare"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        Assert.Contains("serviceaccount", refused.Response.Content, StringComparison.OrdinalIgnoreCase);
        Assert.Empty((await _admin.CoreV1.ListNamespacedConfigMapAsync("bare")).Items);

        using var controllersClient = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_host.ControllersKubeconfigPath));
        using var stop = new CancellationTokenSource();
        var errors = new List<string>();
        var options = new ControllerOptions { RootCaPem = _host.CaPem, Log = line => { lock (errors) { errors.Add(line); } } };
        var running = ControllerManager.RunAsync(controllersClient, options, ControllerManager.ParseList("serviceaccounts,rootcacert"), stop.Token);
        try
        {
            await WaitForAsync(async () => await Exists(() => _admin.CoreV1.ReadNamespacedServiceAccountAsync("default", "bare")), "the default ServiceAccount of bare");
            await WaitForAsync(async () => await Exists(() => _admin.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", "bare")), "kube-root-ca.crt in bare");
            var ca = await _admin.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", "bare");
            Assert.Equal(_host.CaPem, ca.Data["ca.crt"]);
            Assert.True(await Exists(() => _admin.CoreV1.ReadNamespacedServiceAccountAsync("default", "kube-system")));

            var pod = await _admin.CoreV1.CreateNamespacedPodAsync(Pod(), "bare");
            Assert.Equal("default", pod.Spec.ServiceAccountName);

            // Taken away, put back; a wrong CA is corrected.
            await _admin.CoreV1.DeleteNamespacedServiceAccountAsync("default", "bare");
            ca.Data["ca.crt"] = "not the CA";
            await _admin.CoreV1.ReplaceNamespacedConfigMapAsync(ca, "kube-root-ca.crt", "bare");
            await WaitForAsync(async () => await Exists(() => _admin.CoreV1.ReadNamespacedServiceAccountAsync("default", "bare")), "the default ServiceAccount made again");
            await WaitForAsync(async () => (await _admin.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", "bare")).Data["ca.crt"] == _host.CaPem, "kube-root-ca.crt corrected");
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
        lock (errors)
        {
            Assert.DoesNotContain(errors, e => e.Contains("Forbidden", StringComparison.OrdinalIgnoreCase));
        }
    }

    private static async Task<bool> Exists(Func<Task> read)
    {
        try
        {
            await read();
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>Polls until the condition holds, for at most 60 s (a loaded machine).</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
