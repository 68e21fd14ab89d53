using k8s.Models;

namespace Podnet.Agent.Runtime.Volumes;

/// <summary>The volume kinds Podnet mounts, with kubelet's plugin directory name for each.</summary>
public enum VolumeKind
{
    EmptyDir,
    ConfigMap,
    Secret,
    DownwardApi,
    Projected,
    HostPath,
}

/// <summary>One of the pod's volumes: where its data lives on the node.</summary>
/// <param name="Directory">For hostPath the node path (file or directory); else the volume's directory in the pod's directory.</param>
/// <param name="TmpfsBytes">emptyDir medium Memory: a tmpfs, of this size (0: tmpfs's default).</param>
/// <param name="HostPathType">hostPath's type ("" is taken as DirectoryOrCreate).</param>
public sealed record PlannedVolume(string Name, VolumeKind Kind, string Directory, V1Volume Source, long? TmpfsBytes = null, string HostPathType = "");

/// <summary>A volume at one path of the pod: <paramref name="SubPath"/> ("" for all of it) at <paramref name="Target"/>.</summary>
public sealed record PlannedMount(string Volume, string SubPath, string Target, bool ReadOnly, IReadOnlyList<string> Containers);

public sealed record VolumePlan(IReadOnlyList<PlannedVolume> Volumes, IReadOnlyList<PlannedMount> Mounts)
{
    public static readonly VolumePlan Empty = new([], []);

    /// <summary>Whether a volume's content comes from API objects and so is written again when they change.</summary>
    public bool HasProjectedData => Volumes.Any(v => v.Kind is VolumeKind.ConfigMap or VolumeKind.Secret or VolumeKind.DownwardApi or VolumeKind.Projected);
}

/// <summary>A volume that cannot be set up; the message is what kubelet would say after "MountVolume.SetUp failed for volume …".</summary>
public sealed class VolumeException(string volume, string message) : Exception(message)
{
    public string Volume { get; } = volume;
}

/// <summary>
/// Which of a pod's volumes go where: pure, from the pod spec alone.
/// </summary>
/// <remarks>
/// Design: a pod's containers are processes on the node's filesystem inside one mount namespace
/// (the pod's), not each in a root filesystem of its own, so a path shows the same thing to every
/// container of the pod. Each distinct (volume, subPath, readOnly) at a mountPath is mounted once
/// there, for all containers: a container sees the mounts its neighbours asked for too (which no
/// manifest can notice unless it looks for an absence). Two containers asking for different
/// things at the same path cannot both be honoured, and the pod fails with a message saying so
/// rather than one of them silently getting the other's data. Mount points that do not exist on
/// the node are made there (empty directories or files, left in place, since another pod's
/// mount may sit on them) as a bind mount needs one; under /run, which is a tmpfs of the pod's
/// own, they are made inside the pod and nothing is left on the node. Mounts are made once, when
/// the sandbox starts: a container restart sees the same mounts. configMap, secret, downwardAPI and projected volumes are mounted read-only, as kubelet
/// mounts them. hostPath paths live under the node's state directory
/// (STATE/hostpath/PATH): a lab node's "host" is that directory, never the machine's own /.
/// Any other volume kind fails the pod, naming the kind.
/// </remarks>
public static class VolumePlanner
{
    /// <summary>kubelet's directories under pods/UID/volumes.</summary>
    public static string PluginDirectory(VolumeKind kind) => kind switch
    {
        VolumeKind.EmptyDir => "kubernetes.io~empty-dir",
        VolumeKind.ConfigMap => "kubernetes.io~configmap",
        VolumeKind.Secret => "kubernetes.io~secret",
        VolumeKind.DownwardApi => "kubernetes.io~downward-api",
        VolumeKind.Projected => "kubernetes.io~projected",
        _ => "kubernetes.io~host-path",
    };

    public static VolumePlan Plan(V1Pod pod, string podDirectory, string hostPathRoot)
    {
        var volumes = new Dictionary<string, PlannedVolume>(StringComparer.Ordinal);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            volumes[volume.Name] = PlanVolume(volume, podDirectory, hostPathRoot);
        }
        var mounts = new Dictionary<string, (PlannedMount Mount, string Container)>(StringComparer.Ordinal);
        var containers = (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []);
        foreach (var container in containers)
        {
            foreach (var vm in container.VolumeMounts ?? [])
            {
                if (!volumes.TryGetValue(vm.Name, out var volume))
                {
                    throw new VolumeException(vm.Name, $"container \"{container.Name}\" mounts volume \"{vm.Name}\", which the pod does not declare");
                }
                if (!string.IsNullOrEmpty(vm.SubPathExpr))
                {
                    throw new VolumeException(vm.Name, $"container \"{container.Name}\": subPathExpr is not supported by Podnet (subPath is)");
                }
                var target = CleanTarget(vm.MountPath, container.Name, vm.Name);
                var subPath = CleanSubPath(vm.SubPath ?? "", container.Name, vm.Name);
                var readOnly = vm.ReadOnlyProperty == true || volume.Kind is VolumeKind.ConfigMap or VolumeKind.Secret or VolumeKind.DownwardApi or VolumeKind.Projected;
                if (mounts.TryGetValue(target, out var existing))
                {
                    var m = existing.Mount;
                    if (m.Volume != vm.Name || m.SubPath != subPath || m.ReadOnly != readOnly)
                    {
                        throw new VolumeException(vm.Name,
                            $"containers \"{existing.Container}\" and \"{container.Name}\" mount different things at {target} "
                            + $"(volume \"{m.Volume}\"{SubPathText(m.SubPath)}{(m.ReadOnly ? " read-only" : "")} and volume \"{vm.Name}\"{SubPathText(subPath)}{(readOnly ? " read-only" : "")}): "
                            + "Podnet runs a pod's containers in one mount namespace, where a path shows one thing to all of them");
                    }
                    if (!m.Containers.Contains(container.Name))
                    {
                        mounts[target] = (m with { Containers = [.. m.Containers, container.Name] }, existing.Container);
                    }
                    continue;
                }
                mounts[target] = (new PlannedMount(vm.Name, subPath, target, readOnly, [container.Name]), container.Name);
            }
        }
        // Parents before children: a mount at /a/b must land on top of the one at /a.
        var ordered = mounts.Values.Select(m => m.Mount).OrderBy(m => m.Target.Count(c => c == '/')).ThenBy(m => m.Target, StringComparer.Ordinal).ToArray();
        return new VolumePlan(volumes.Values.ToArray(), ordered);
    }

    private static string SubPathText(string subPath) => subPath.Length == 0 ? "" : $" subPath {subPath}";

    private static PlannedVolume PlanVolume(V1Volume volume, string podDirectory, string hostPathRoot)
    {
        string Dir(VolumeKind kind) => Path.Combine(podDirectory, "volumes", PluginDirectory(kind), volume.Name);
        if (volume.EmptyDir is { } empty)
        {
            var memory = empty.Medium == "Memory";
            if (empty.Medium is not (null or "" or "Memory"))
            {
                throw new VolumeException(volume.Name, $"emptyDir medium \"{empty.Medium}\" is not supported by Podnet (\"\" and Memory are)");
            }
            long? bytes = memory ? (empty.SizeLimit is { } limit ? (long)Math.Ceiling(limit.ToDecimal()) : 0) : null;
            return new PlannedVolume(volume.Name, VolumeKind.EmptyDir, Dir(VolumeKind.EmptyDir), volume, bytes);
        }
        if (volume.ConfigMap is not null)
        {
            return new PlannedVolume(volume.Name, VolumeKind.ConfigMap, Dir(VolumeKind.ConfigMap), volume);
        }
        if (volume.Secret is not null)
        {
            return new PlannedVolume(volume.Name, VolumeKind.Secret, Dir(VolumeKind.Secret), volume);
        }
        if (volume.DownwardAPI is not null)
        {
            return new PlannedVolume(volume.Name, VolumeKind.DownwardApi, Dir(VolumeKind.DownwardApi), volume);
        }
        if (volume.Projected is not null)
        {
            return new PlannedVolume(volume.Name, VolumeKind.Projected, Dir(VolumeKind.Projected), volume);
        }
        if (volume.HostPath is { } host)
        {
            var type = host.Type ?? "";
            if (type is not ("" or "DirectoryOrCreate" or "Directory" or "FileOrCreate" or "File"))
            {
                throw new VolumeException(volume.Name, $"hostPath type {type} is not supported by Podnet (Directory, DirectoryOrCreate, File, FileOrCreate are)");
            }
            if (string.IsNullOrEmpty(host.Path) || !host.Path.StartsWith('/') || host.Path.Split('/').Contains(".."))
            {
                throw new VolumeException(volume.Name, $"hostPath path \"{host.Path}\" must be absolute and must not contain '..'");
            }
            return new PlannedVolume(volume.Name, VolumeKind.HostPath, Path.Combine(hostPathRoot, host.Path.TrimStart('/')), volume, HostPathType: type);
        }
        throw new VolumeException(volume.Name, $"{KindOf(volume)} volumes are not supported by Podnet (supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath)");
    }

    /// <summary>The JSON name of a volume's source, for the message that refuses it.</summary>
    private static string KindOf(V1Volume v) => v switch
    {
        { PersistentVolumeClaim: not null } => "persistentVolumeClaim",
        { Nfs: not null } => "nfs",
        { Csi: not null } => "csi",
        { Ephemeral: not null } => "ephemeral",
        { Image: not null } => "image",
        { Iscsi: not null } => "iscsi",
        { GitRepo: not null } => "gitRepo",
        { Rbd: not null } => "rbd",
        { Cephfs: not null } => "cephfs",
        { Glusterfs: not null } => "glusterfs",
        { Fc: not null } => "fc",
        { FlexVolume: not null } => "flexVolume",
        { AwsElasticBlockStore: not null } => "awsElasticBlockStore",
        { GcePersistentDisk: not null } => "gcePersistentDisk",
        { AzureDisk: not null } => "azureDisk",
        { AzureFile: not null } => "azureFile",
        { Cinder: not null } => "cinder",
        { VsphereVolume: not null } => "vsphereVolume",
        _ => $"volume \"{v.Name}\" has no source Podnet knows; such",
    };

    private static string CleanTarget(string mountPath, string container, string volume)
    {
        if (string.IsNullOrEmpty(mountPath) || !mountPath.StartsWith('/') || mountPath.Split('/').Contains(".."))
        {
            throw new VolumeException(volume, $"container \"{container}\": mountPath \"{mountPath}\" must be absolute and must not contain '..'");
        }
        var clean = "/" + string.Join('/', mountPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));
        if (clean == "/")
        {
            throw new VolumeException(volume, $"container \"{container}\": a volume cannot be mounted at /");
        }
        return clean;
    }

    private static string CleanSubPath(string subPath, string container, string volume)
    {
        if (subPath.StartsWith('/') || subPath.Split('/').Contains(".."))
        {
            throw new VolumeException(volume, $"container \"{container}\": subPath \"{subPath}\" must be relative and must not contain '..'");
        }
        return string.Join('/', subPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));
    }
}
