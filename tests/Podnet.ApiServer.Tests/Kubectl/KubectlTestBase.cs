using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>What kubectl tests share: the real kubectl on a private HOME against the class's server, namespaces, manifest files.</summary>
public abstract class KubectlTestBase : IClassFixture<ServerFixture>, IDisposable
{
    /// <summary>A Deployment with one container, a port and an env var, as the tests apply it.</summary>
    protected const string WebDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: agnhost:2.39
                ports: [{containerPort: 8080}]
                env: [{name: A, value: "1"}]
        """;

    /// <summary>The Service in front of it, with the given ports list.</summary>
    protected static string WebService(string ports) => $$"""
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          selector: {app: web}
          ports: {{ports}}
        """;

    protected KubectlTestBase(ServerFixture server)
    {
        Server = server;
        Home = Directory.CreateTempSubdirectory("podnet-kubectl-").FullName;
        Kubectl = new Kubectl(server.Host.KubeconfigPath, Home);
    }

    protected ServerFixture Server { get; }

    protected string Home { get; }

    private protected Kubectl Kubectl { get; }

    public void Dispose()
    {
        Directory.Delete(Home, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A new namespace, created from a manifest on stdin, as kubectl reports it.</summary>
    protected string Namespace(string prefix = "k-")
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        var result = Kubectl.RunWithInput($"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n", "create", "-f", "-");
        Assert.Equal((0, $"namespace/{name} created\n"), (result.ExitCode, result.Out));
        return name;
    }

    /// <summary>Writes a manifest into the test's HOME; returns its path.</summary>
    protected string File(string name, string text)
    {
        var path = Path.Combine(Home, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }
}
