namespace Podnet.Cni.IntegrationTests.Infrastructure;

/// <summary>
/// The published plugin at &lt;repo&gt;/bin/podnet-cni (made by <c>./podnet build</c>). A missing
/// binary fails the test with how to build it: a conformance suite that skips proves nothing.
/// </summary>
internal static class PluginBinary
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Directory => Path.Combine(RepositoryRoot, "bin");

    public static string Cni => Require("podnet-cni");

    /// <summary>The podnet-ipam name of the same binary (a symlink).</summary>
    public static string Ipam => Require("podnet-ipam");

    private static string Require(string name)
    {
        var path = Path.Combine(Directory, name);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} does not exist: build it with ./podnet build (dotnet publish src/Podnet.Cni -c Release -r linux-x64 -p:PublishAot=true, " +
                "copied to bin/podnet-cni, with the symlink bin/podnet-ipam -> podnet-cni)");
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Podnet.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Podnet.slnx above {AppContext.BaseDirectory}");
    }
}
