using System.Text;
using k8s.Models;
using Podnet.Agent.Runtime;
using Podnet.Agent.Runtime.Volumes;

namespace Podnet.Agent.Tests;

public sealed class VolumePlannerTests
{
    private static V1Pod Pod(IList<V1Volume> volumes, params V1Container[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Uid = "u-1", Labels = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "a\"b" } },
        Spec = new V1PodSpec { Volumes = volumes, Containers = containers },
    };

    private static V1Container Container(string name, params V1VolumeMount[] mounts) => new() { Name = name, Image = "busybox", VolumeMounts = mounts };

    [Fact]
    public void Plan_EachKind_GetsKubeletsDirectory_HostPathUnderTheNodesState()
    {
        var plan = VolumePlanner.Plan(Pod([
            new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = "mem", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity("1Mi") } },
            new V1Volume { Name = "cfg", ConfigMap = new V1ConfigMapVolumeSource { Name = "c" } },
            new V1Volume { Name = "host", HostPath = new V1HostPathVolumeSource { Path = "/data/x", Type = "DirectoryOrCreate" } },
        ], Container("main", new V1VolumeMount { Name = "cfg", MountPath = "/etc/cfg/" }, new V1VolumeMount { Name = "scratch", MountPath = "/tmp/s", SubPath = "a/./b" })), "/pods/u-1", "/state/hostpath");
        Assert.Equal("/pods/u-1/volumes/kubernetes.io~empty-dir/scratch", plan.Volumes[0].Directory);
        Assert.Null(plan.Volumes[0].TmpfsBytes);
        Assert.Equal(1048576, plan.Volumes[1].TmpfsBytes);
        Assert.Equal("/pods/u-1/volumes/kubernetes.io~configmap/cfg", plan.Volumes[2].Directory);
        Assert.Equal("/state/hostpath/data/x", plan.Volumes[3].Directory);
        Assert.Equal(["/etc/cfg ro cfg", "/tmp/s rw scratch:a/b"], plan.Mounts.Select(m => $"{m.Target} {(m.ReadOnly ? "ro" : "rw")} {m.Volume}{(m.SubPath.Length > 0 ? ":" + m.SubPath : "")}"));
        Assert.True(plan.HasProjectedData);
    }

    [Theory]
    [InlineData("persistentVolumeClaim")]
    [InlineData("nfs")]
    [InlineData("csi")]
    public void Plan_UnsupportedKind_FailsNamingIt(string kind)
    {
        var volume = new V1Volume { Name = "data" };
        switch (kind)
        {
            case "persistentVolumeClaim": volume.PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = "c" }; break;
            case "nfs": volume.Nfs = new V1NFSVolumeSource { Server = "s", Path = "/" }; break;
            default: volume.Csi = new V1CSIVolumeSource { Driver = "d" }; break;
        }
        var e = Assert.Throws<VolumeException>(() => VolumePlanner.Plan(Pod([volume], Container("main")), "/p", "/h"));
        Assert.Equal("data", e.Volume);
        Assert.StartsWith($"{kind} volumes are not supported by Podnet", e.Message);
    }

    [Fact]
    public void Plan_TwoContainersDifferentThingsAtOnePath_FailsVisibly_SameThingIsOneMount()
    {
        V1Volume[] volumes = [new V1Volume { Name = "a", EmptyDir = new() }, new V1Volume { Name = "b", EmptyDir = new() }];
        var e = Assert.Throws<VolumeException>(() => VolumePlanner.Plan(Pod(volumes,
            Container("one", new V1VolumeMount { Name = "a", MountPath = "/data" }),
            Container("two", new V1VolumeMount { Name = "b", MountPath = "/data" })), "/p", "/h"));
        Assert.Contains("containers \"one\" and \"two\" mount different things at /data", e.Message);
        Assert.Contains("one mount namespace", e.Message);

        var plan = VolumePlanner.Plan(Pod(volumes,
            Container("one", new V1VolumeMount { Name = "a", MountPath = "/data" }),
            Container("two", new V1VolumeMount { Name = "a", MountPath = "/data" }, new V1VolumeMount { Name = "b", MountPath = "/data/inner" })), "/p", "/h");
        Assert.Equal(["/data one,two", "/data/inner two"], plan.Mounts.Select(m => $"{m.Target} {string.Join(',', m.Containers)}"));
    }

    [Theory]
    [InlineData("relative/path", "")]
    [InlineData("/a/../etc", "")]
    [InlineData("/data", "../escape")]
    [InlineData("/data", "/abs")]
    public void Plan_BadMountPathOrSubPath_IsRefused(string mountPath, string subPath) =>
        Assert.Throws<VolumeException>(() => VolumePlanner.Plan(Pod([new V1Volume { Name = "a", EmptyDir = new() }],
            Container("one", new V1VolumeMount { Name = "a", MountPath = mountPath, SubPath = subPath })), "/p", "/h"));

    [Fact]
    public void Plan_MountOfAnUndeclaredVolume_IsRefused() =>
        Assert.Contains("does not declare", Assert.Throws<VolumeException>(() => VolumePlanner.Plan(Pod([], Container("one", new V1VolumeMount { Name = "x", MountPath = "/x" })), "/p", "/h")).Message);
}

public sealed class VolumeFilesTests
{
    private static readonly V1Pod s_pod = new()
    {
        Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Uid = "u-1", Labels = new Dictionary<string, string> { ["tier"] = "a\"b", ["app"] = "web" } },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container
            {
                Name = "main",
                Resources = new V1ResourceRequirements
                {
                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") },
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m") },
                },
            }],
        },
    };

    private static VolumeInputs Inputs(V1ConfigMap? cm = null, V1Secret? secret = null) => new(
        cm is null ? new Dictionary<string, V1ConfigMap>() : new Dictionary<string, V1ConfigMap> { [cm.Metadata.Name] = cm },
        secret is null ? new Dictionary<string, V1Secret>() : new Dictionary<string, V1Secret> { [secret.Metadata.Name] = secret },
        "the-token",
        new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2"), ["memory"] = new("4Gi") });

    private static readonly V1ConfigMap s_config = new() { Metadata = new V1ObjectMeta { Name = "cfg" }, Data = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } };

    private static IReadOnlyDictionary<string, VolumeFile> Build(V1Volume volume, VolumeInputs inputs) =>
        VolumeFiles.Build(s_pod, VolumePlanner.Plan(new V1Pod { Metadata = s_pod.Metadata, Spec = new V1PodSpec { Volumes = [volume], Containers = s_pod.Spec.Containers } }, "/p", "/h").Volumes[0], inputs);

    private static string Show(IReadOnlyDictionary<string, VolumeFile> files) =>
        string.Join(" | ", files.Select(f => $"{f.Key} {Convert.ToString(f.Value.Mode, 8)} {Encoding.UTF8.GetString(f.Value.Content)}"));

    [Fact]
    public void ConfigMap_AllKeys_ItemsWithPathAndMode_DefaultMode()
    {
        Assert.Equal("a 644 1 | b 644 2", Show(Build(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "cfg" } }, Inputs(s_config))));
        Assert.Equal("dir/b.txt 400 2", Show(Build(new V1Volume
        {
            Name = "v",
            ConfigMap = new V1ConfigMapVolumeSource { Name = "cfg", DefaultMode = 0x1C0, Items = [new V1KeyToPath { Key = "b", Path = "dir/b.txt", Mode = 0x100 }] },
        }, Inputs(s_config))));
    }

    [Fact]
    public void ConfigMap_MissingObjectOrKey_KubeletsMessages_OptionalIsEmpty()
    {
        var missing = Assert.Throws<VolumeException>(() => Build(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "nope" } }, Inputs()));
        Assert.Equal("configmap \"nope\" not found", missing.Message);
        var key = Assert.Throws<VolumeException>(() => Build(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "cfg", Items = [new V1KeyToPath { Key = "zz", Path = "z" }] } }, Inputs(s_config)));
        Assert.Equal("configmap references non-existent config key: zz", key.Message);
        Assert.Empty(Build(new V1Volume { Name = "v", ConfigMap = new V1ConfigMapVolumeSource { Name = "nope", Optional = true } }, Inputs()));
    }

    [Fact]
    public void Secret_BytesAsTheyAre_MissingIsKubeletsMessage()
    {
        var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, Data = new Dictionary<string, byte[]> { ["password"] = [0x70, 0x77, 0x00] } };
        var files = Build(new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "s" } }, Inputs(secret: secret));
        Assert.Equal(new byte[] { 0x70, 0x77, 0x00 }, files["password"].Content);
        Assert.Equal("secret \"other\" not found", Assert.Throws<VolumeException>(() => Build(new V1Volume { Name = "v", Secret = new V1SecretVolumeSource { SecretName = "other" } }, Inputs())).Message);
    }

    [Fact]
    public void DownwardApi_FieldsLabelsAndResources_AsKubeletFormatsThem()
    {
        var files = Build(new V1Volume
        {
            Name = "v",
            DownwardAPI = new V1DownwardAPIVolumeSource
            {
                Items =
                [
                    new V1DownwardAPIVolumeFile { Path = "name", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } },
                    new V1DownwardAPIVolumeFile { Path = "labels", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels" } },
                    new V1DownwardAPIVolumeFile { Path = "mem_limit", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = "main", Resource = "limits.memory", Divisor = new ResourceQuantity("1Mi") } },
                    new V1DownwardAPIVolumeFile { Path = "cpu_request", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = "main", Resource = "requests.cpu", Divisor = new ResourceQuantity("1m") } },
                    new V1DownwardAPIVolumeFile { Path = "cpu_limit", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = "main", Resource = "limits.cpu" } },
                ],
            },
        }, Inputs());
        Assert.Equal("web-1", Encoding.UTF8.GetString(files["name"].Content));
        Assert.Equal("app=\"web\"\ntier=\"a\\\"b\"", Encoding.UTF8.GetString(files["labels"].Content));
        Assert.Equal("64", Encoding.UTF8.GetString(files["mem_limit"].Content));
        Assert.Equal("250", Encoding.UTF8.GetString(files["cpu_request"].Content));
        Assert.Equal("2", Encoding.UTF8.GetString(files["cpu_limit"].Content)); // no limit: the node's allocatable
    }

    [Fact]
    public void Projected_KubeApiAccess_TokenCaAndNamespace()
    {
        var root = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kube-root-ca.crt" }, Data = new Dictionary<string, string> { ["ca.crt"] = "PEM" } };
        var files = Build(new V1Volume
        {
            Name = "kube-api-access-x",
            Projected = new V1ProjectedVolumeSource
            {
                DefaultMode = 0x1A4,
                Sources =
                [
                    new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = 3607 } },
                    new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "kube-root-ca.crt", Items = [new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] } },
                    new V1VolumeProjection { DownwardAPI = new V1DownwardAPIProjection { Items = [new V1DownwardAPIVolumeFile { Path = "namespace", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } }] } },
                ],
            },
        }, Inputs(root));
        Assert.Equal("ca.crt 644 PEM | namespace 644 default | token 644 the-token", Show(files));
    }
}

public sealed class AtomicWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("volumes-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, VolumeFile> Payload(params (string Path, string Text)[] files) =>
        files.ToDictionary(f => f.Path, f => new VolumeFile(Encoding.UTF8.GetBytes(f.Text), 0x1A4));

    [Fact]
    public void Write_SwapsDataLink_KeysAreLinksThroughIt_OldOnesGo_SamePayloadChangesNothing()
    {
        var t0 = new DateTime(2026, 12, 7, 15, 0, 0, DateTimeKind.Utc);
        Assert.True(AtomicWriter.Write(_dir, Payload(("a", "1"), ("sub/b", "2")), t0));
        Assert.Equal("..data/a", new FileInfo(Path.Combine(_dir, "a")).LinkTarget);
        Assert.Equal("..data/sub", new DirectoryInfo(Path.Combine(_dir, "sub")).LinkTarget);
        Assert.Equal("2", File.ReadAllText(Path.Combine(_dir, "sub", "b")));
        var first = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget;
        Assert.StartsWith("..2026_12_07_15_00_00.", first);

        Assert.False(AtomicWriter.Write(_dir, Payload(("a", "1"), ("sub/b", "2")), t0.AddSeconds(10)));
        Assert.Equal(first, new FileInfo(Path.Combine(_dir, "..data")).LinkTarget);

        Assert.True(AtomicWriter.Write(_dir, Payload(("a", "changed"), ("c", "3")), t0.AddSeconds(20)));
        Assert.Equal("changed", File.ReadAllText(Path.Combine(_dir, "a")));
        Assert.Equal("3", File.ReadAllText(Path.Combine(_dir, "c")));
        Assert.False(Path.Exists(Path.Combine(_dir, "sub")));
        Assert.False(Directory.Exists(Path.Combine(_dir, first!)));
        Assert.Equal(["..data", "a", "c"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Where(n => !n!.StartsWith("..2", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Write_ModeChangeAlone_IsAChange()
    {
        var t0 = DateTime.UtcNow;
        AtomicWriter.Write(_dir, Payload(("a", "1")), t0);
        Assert.True(AtomicWriter.Write(_dir, new Dictionary<string, VolumeFile> { ["a"] = new("1"u8.ToArray(), 0x100) }, t0.AddSeconds(1)));
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(Path.Combine(_dir, "a")) == (UnixFileMode)0x100);
    }
}

public sealed class CrashBackoffTests
{
    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(2, 40)]
    [InlineData(4, 160)]
    [InlineData(5, 300)]
    [InlineData(50, 300)]
    public void Delay_TenSecondsDoublingToFiveMinutes(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), CrashBackoff.Delay(failures));
}
