namespace Podnet.Testing;

/// <summary>Where the repository and its published binaries are, found from the test's directory.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// A binary published by <c>./podnet build</c> into bin/. Tests that need one fail (not skip)
    /// when it is missing: ./test.sh always builds first.
    /// </summary>
    public static string Bin(string name)
    {
        var path = Path.Combine(Root, "bin", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run ./podnet build first");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Podnet.slnx")) && File.Exists(Path.Combine(dir.FullName, "podnet")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no Podnet repository above {AppContext.BaseDirectory}");
    }
}
