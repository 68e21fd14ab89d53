namespace Podnet.Kernel.IntegrationTests;

/// <summary>
/// The host's registry of mount points made for pods, on a scratch directory standing in for
/// the host's root: what it makes, whom it counts, and what it must never remove.
/// </summary>
public sealed class MountPointsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pn-mountpoints-" + Guid.NewGuid().ToString("N"));
    private readonly MountPoints _registry;

    public MountPointsTests()
    {
        Directory.CreateDirectory(_root);
        _registry = new MountPoints(Path.Combine(_root, "registry"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Owner(string name) => Directory.CreateDirectory(Path.Combine(_root, "pods", name)).FullName;

    private string Host(string path) => Path.Combine(_root, "host", path);

    [Fact]
    public void MissingParentsAndTarget_AreMade_AndRemovedWithTheLastOwner()
    {
        var a = Owner("a");
        var b = Owner("b");
        Directory.CreateDirectory(Host(""));
        _registry.Acquire(a, [(Host("data/deep/dir"), false), (Host("agnhost"), true)]);
        Assert.True(Directory.Exists(Host("data/deep/dir")));
        Assert.True(File.Exists(Host("agnhost")));
        _registry.Acquire(b, [(Host("data/deep/dir"), false)]);

        _registry.Release(a);
        Assert.True(Directory.Exists(Host("data/deep/dir")), "b still uses it");
        Assert.False(File.Exists(Host("agnhost")), "only a used it");

        _registry.Release(b);
        Assert.False(Directory.Exists(Host("data")), "every component made for the pods goes");
        Assert.True(Directory.Exists(Host("")), "what existed before stays");
        Assert.Empty(_registry.Recorded());
    }

    [Fact]
    public void PathsThatExisted_OrWereWrittenInto_AreNeverRemoved()
    {
        var a = Owner("a");
        Directory.CreateDirectory(Host("etc"));
        File.WriteAllText(Host("etc/existing"), "x");
        _registry.Acquire(a, [(Host("etc"), false), (Host("etc/existing"), true), (Host("made/sub"), false)]);
        File.WriteAllText(Host("made/someone-elses"), "y");

        _registry.Release(a);
        Assert.Equal("x", File.ReadAllText(Host("etc/existing")));
        Assert.True(File.Exists(Host("made/someone-elses")), "a made directory written into meanwhile stays, with its content");
        Assert.False(Directory.Exists(Host("made/sub")), "its empty child made for the pod goes");
        Assert.Empty(_registry.Recorded());
    }

    [Fact]
    public void AnOwnerWhoseDirectoryIsGone_IsSweptByTheNextOperation()
    {
        var crashed = Owner("crashed");
        var alive = Owner("alive");
        _registry.Acquire(crashed, [(Host("left"), false)]);
        _registry.Acquire(alive, [(Host("kept"), false)]);
        Directory.Delete(crashed);

        _registry.Sweep();
        Assert.False(Directory.Exists(Host("left")));
        Assert.True(Directory.Exists(Host("kept")));
        Assert.Equal([alive], _registry.Recorded()[Host("kept")]);
    }

    [Fact]
    public void AFailedAcquire_RecordsWhatItMadeBeforeTheFailure()
    {
        var a = Owner("a");
        File.WriteAllText(Path.Combine(_root, "a-file"), "");
        // The second target cannot be made (its parent is a file); the first was.
        Assert.ThrowsAny<IOException>(() => _registry.Acquire(a, [(Host("first"), false), (Path.Combine(_root, "a-file", "below"), false)]));
        Assert.True(_registry.Recorded().ContainsKey(Host("first")));
        _registry.Release(a);
        Assert.False(Directory.Exists(Host("first")));
    }
}
