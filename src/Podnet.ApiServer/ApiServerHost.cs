using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Podnet.ApiServer.Admission;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Pki;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer;

/// <summary>
/// A running API server: TLS on every bind address, the store in the state directory, the
/// sweeper that finishes delayed deletions. <see cref="StartAsync"/> returns once it listens and
/// STATE/kubeconfig is written.
/// </summary>
public sealed class ApiServerHost : IAsyncDisposable
{
    private static readonly string[] ServiceNames = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"];

    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly CancellationTokenSource _stopping = new();
    private Task _sweeper = Task.CompletedTask;
    private Streaming.KubeletClient? _kubelets;
    private Auth.AuditLog? _audit;

    private ApiServerHost(WebApplication app, ObjectStore store, Certificates certificates, ApiServerOptions options)
    {
        _app = app;
        _store = store;
        Certificates = certificates;
        Options = options;
    }

    public ApiServerOptions Options { get; }

    public int Port { get; private set; }

    public Uri Url { get; private set; } = new("https://127.0.0.1/");

    public string Token => Certificates.Token;

    public string CaPem => Certificates.CaPem;

    public string KubeconfigPath => Path.Combine(Options.StateDirectory, "kubeconfig");

    /// <summary>The controllers' kubeconfig: a client certificate for system:kube-controller-manager.</summary>
    public string ControllersKubeconfigPath => Path.Combine(Options.StateDirectory, "kubeconfig-controllers");

    /// <summary>The kubeconfig of a lab node's agent (<see cref="ApiServerOptions.LabNodes"/>).</summary>
    public static string NodeKubeconfigPath(string stateDirectory, string node) => Path.Combine(stateDirectory, $"kubeconfig-node-{node}");

    internal Certificates Certificates { get; }

    public static async Task<ApiServerHost> StartAsync(ApiServerOptions options, CancellationToken cancellationToken = default)
    {
        var state = Directory.CreateDirectory(options.StateDirectory);
        if (!OperatingSystem.IsWindows())
        {
            // The database holds Secrets and the directory the CA key: owner only.
            state.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
        var clusterIp = Core.Net.IpMath.Add(options.ServiceCidrs[0].BaseAddress, 1);
        var sans = options.BindAddresses.Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any))
            .Append(IPAddress.Loopback).Append(clusterIp).Concat(options.Lab is { } lab ? [lab.Address] : []).Distinct().ToList();
        var certificates = Certificates.LoadOrCreate(Path.Combine(options.StateDirectory, "pki"), sans, ServiceNames);
        var store = new ObjectStore(Path.Combine(options.StateDirectory, "state.db"), options.WatchWindow);
        // The content root is the state directory and configuration files are not reloaded:
        // the defaults (the working directory, often /, with reload on change) put a recursive
        // file watcher on it, which cost a tenth of the server's CPU in a busy lab.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = options.StateDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Bodies.ReadAsync answers 413 past the limit itself; Kestrel's own limit is the
            // same, so no request can make it buffer more.
            kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxRequestBodyBytes;
            // client-go multiplexes every watch of a process over one HTTP/2 connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            if (options.Lab is { } labListener)
            {
                kestrel.ListenHandle(labListener.Handle, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(Auth.ClientCertificates.Https(certificates.Serving));
                });
            }
            foreach (var address in options.BindAddresses)
            {
                kestrel.Listen(address, options.Port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(Auth.ClientCertificates.Https(certificates.Serving));
                });
            }
        });
        var app = builder.Build();
        var host = new ApiServerHost(app, store, certificates, options);
        var allocator = new ServiceAllocator(options.ServiceCidrs, options.NodePortMin, options.NodePortMax, Random.Shared);
        var admission = new AdmissionChain(allocator);
        var service = new ResourceService(store, admission, TimeProvider.System);
        var pkiDirectory = Path.Combine(options.StateDirectory, "pki");
        var authorizer = new Auth.Rbac.RbacAuthorizer(store, options.Authorization == AuthorizationMode.Rbac);
        admission.Auth = (txn, r, obj, old) =>
        {
            Auth.Rbac.Escalation.Check(authorizer, r, obj);
            Auth.Tokens.ServiceAccountAdmission.Admit(txn, r, obj, old);
            Auth.Node.NodeRestriction.Admit(r, obj, old);
        };
        var signer = new Auth.Tokens.TokenSigner(pkiDirectory);
        var tokens = new Auth.Tokens.ServiceAccountTokens(signer, store, TimeProvider.System, Auth.Tokens.ServiceAccountAdmission.DefaultIssuer);
        var authenticator = new Auth.Authenticator(KubeletPki.LoadCaCertificate(pkiDirectory), certificates.Token) { Tokens = token => tokens.Authenticate(token).User };
        var gate = new Auth.AccessGate(authenticator, authorizer, tokens, () => host.Url.ToString(), new Auth.Node.NodeRestriction(store));
        service.NamespaceDefaults = options.NamespaceDefaults ? txn => Bootstrap.EnsureNamespaceDefaults(service, txn, certificates.CaPem) : null;
        var stopping = CancellationTokenSource.CreateLinkedTokenSource(host._stopping.Token, app.Lifetime.ApplicationStopping).Token;
        var watch = new WatchHandler(store, options.BookmarkInterval, stopping);
        string? serverAddress = null;
        var pki = Path.Combine(options.StateDirectory, "pki");
        var kubelets = new Streaming.KubeletClient(
            KubeletPki.LoadOrIssue(pki, "kubelet-client", pki, KubeletPki.ApiServerClientName, [], [], serverAuth: false),
            KubeletPki.LoadCaCertificate(pki),
            options.KubeletSocket);
        host._kubelets = kubelets;
        var handler = new Lazy<ApiHandler>(() => new ApiHandler(service, watch, gate, serverAddress!)
        {
            Kubelets = new Streaming.KubeletStreamBackend(service, kubelets),
            Transports = options.StreamTransports ?? [new Streaming.WebSocketTransport(), new Streaming.Spdy.SpdyTransport()],
        });
        var bounds = new RequestBounds(options.MaxRequestsInFlight, options.MaxMutatingRequestsInFlight, options.RequestTimeout, stopping);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        if (options.AuditLogPath is { } auditPath)
        {
            var audit = host._audit = new Auth.AuditLog(auditPath);
            app.Run(context => audit.ServeAsync(context, c => bounds.ServeAsync(c, handler.Value.HandleAsync)));
        }
        else
        {
            app.Run(context => bounds.ServeAsync(context, handler.Value.HandleAsync));
        }
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var listening = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        host.Port = listening.Select(a => Uri.TryCreate(a, UriKind.Absolute, out var u) ? u : null)
            .First(u => u is not null && IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip) && options.BindAddresses.Any(b => b.Equals(ip) || b.Equals(IPAddress.Any) || b.Equals(IPAddress.IPv6Any)))!.Port;
        var advertise = options.AdvertiseAddress;
        var advertisePort = options.Lab?.Port ?? host.Port;
        serverAddress = Endpoint(advertise, advertisePort);
        host.Url = new Uri($"https://{Endpoint(options.BindAddresses[0].Equals(IPAddress.Any) ? IPAddress.Loopback : options.BindAddresses[0], host.Port)}/");
        await Bootstrap.EnsureAsync(service, options, advertise, advertisePort, certificates.CaPem).ConfigureAwait(false);
        await Auth.Rbac.BootstrapPolicy.EnsureAsync(service).ConfigureAwait(false);
        await Auth.Rbac.ClusterRoleAggregation.ReconcileAsync(service).ConfigureAwait(false);
        if (options.Lab is not null)
        {
            var labUrl = new Uri($"https://{serverAddress}/");
            // Each written atomically once the bootstrap objects exist: the lab's supervisor starts
            // the agents when all of them are there.
            foreach (var node in options.LabNodes)
            {
                var (nodeCert, nodeKey) = Auth.ClientCertificates.LoadOrIssue(pkiDirectory, $"node-{node}", pkiDirectory, Auth.Node.NodeIdentity.UserPrefix + node, [Auth.Node.NodeIdentity.Group]);
                Kubeconfig.WriteWithCertificate(NodeKubeconfigPath(options.StateDirectory, node), labUrl, certificates.CaPem, nodeCert, nodeKey);
            }
        }
        host._sweeper = host.SweepAsync(service, stopping);
        var (adminCert, adminKey) = Auth.ClientCertificates.LoadOrIssue(pkiDirectory, "admin", pkiDirectory, Auth.ClientCertificates.AdminUser, [Auth.UserInfo.Masters]);
        Kubeconfig.WriteWithCertificate(host.KubeconfigPath, host.Url, certificates.CaPem, adminCert, adminKey);
        var (controllersCert, controllersKey) = Auth.ClientCertificates.LoadOrIssue(pkiDirectory, "controllers", pkiDirectory, Auth.ClientCertificates.ControllersUser, []);
        Kubeconfig.WriteWithCertificate(host.ControllersKubeconfigPath, host.Url, certificates.CaPem, controllersCert, controllersKey);
        return host;
    }

    /// <summary>Runs until SIGTERM/SIGINT (or <see cref="StopAsync"/>), then shuts down cleanly.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _sweeper.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        _kubelets?.Dispose();
        _audit?.Dispose();
        _stopping.Dispose();
    }

    private async Task SweepAsync(ResourceService service, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await service.SweepAsync().ConfigureAwait(false);
                    await Auth.Rbac.ClusterRoleAggregation.ReconcileAsync(service).ConfigureAwait(false);
                    if (service.NamespaceDefaults is { } defaults)
                    {
                        await service.Store.WriteAsync(txn =>
                        {
                            defaults(txn);
                            return 0;
                        }, stopping).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Console.Error.WriteLine($"podnet server: sweep failed: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
