using System.Text.Json;
using System.Text.Json.Serialization;
using Podnet.Kernel;
using Podnet.Lab.Topology;

namespace Podnet.Lab.State;

/// <summary>
/// The labs on each shared network: networks/NAME/network.json beside the labs' directory
/// (/var/lib/podnet/networks, or next to $PODNET_LAB_ROOT), read and written only under one
/// file lock for every network (networks/.lock, never removed, so that no two processes ever
/// hold locks on different files). The network's namespace is made by the first lab that joins
/// and removed when no lab is attached any more; a lab that went down with its state kept keeps
/// its slot, detached.
/// </summary>
public static class NetworkState
{
    private static readonly TimeSpan s_lockTimeout = TimeSpan.FromSeconds(30);

    public static string Root => Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(LabState.Root)) ?? "/", "networks");

    public static string FilePath(string network) => Path.Combine(Root, NetworkName.Validate(network), "network.json");

    /// <summary>The labs on <paramref name="network"/>, as its file lists them (empty when it has none).</summary>
    public static IReadOnlyList<NetworkAllocation> Read(string network)
    {
        var path = FilePath(network);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), NetworkStateJson.Default.NetworkFile)?.Labs ?? [] : [];
    }

    /// <summary>
    /// Lab <paramref name="request"/>'s slot on <paramref name="network"/>: allocated (or its own
    /// again), then <paramref name="commit"/> is called with it while the lock is held (the lab
    /// saves its settings there, so no other lab ever sees a record of a lab without settings),
    /// and the network's namespace is made if it is missing. Refusals throw
    /// <see cref="ArgumentException"/> with nothing changed.
    /// </summary>
    public static int Join(string network, NetworkAllocation request, int? preferredSlot, Action<int> commit)
    {
        using var held = Lock();
        var labs = Read(network).Where(a => a.Lab == request.Lab || Alive(a.Lab)).ToList();
        var slot = NetworkPlanner.Allocate(network, labs, request, preferredSlot);
        commit(slot);
        labs.RemoveAll(a => a.Lab == request.Lab);
        labs.Add(request with { Slot = slot, Attached = true });
        Write(network, labs);
        NetworkBuilder.Ensure(network);
        return slot;
    }

    /// <summary>
    /// Lab <paramref name="lab"/> leaves every network it is on: its routes there go, its record
    /// too unless <paramref name="keepSlot"/>; a network with no attached lab loses its namespace,
    /// and one with no lab at all its directory. Returns the networks whose namespace was removed.
    /// </summary>
    public static IReadOnlyList<string> Leave(string lab, bool keepSlot)
    {
        var removed = new List<string>();
        if (!Directory.Exists(Root))
        {
            return removed;
        }
        using var held = Lock();
        foreach (var network in Directory.GetDirectories(Root).Select(Path.GetFileName).OfType<string>().Where(n => NetworkName.IsValid(n, out _)))
        {
            var labs = Read(network).ToList();
            if (labs.FirstOrDefault(a => a.Lab == lab) is not { } mine)
            {
                continue;
            }
            NetworkBuilder.Detach(network, lab, mine.Slot);
            labs.Remove(mine);
            if (keepSlot)
            {
                labs.Add(mine with { Attached = false });
            }
            if (!labs.Any(a => a.Attached) && NetworkBuilder.Delete(network))
            {
                removed.Add(NetworkPlanner.NetnsName(network));
            }
            if (labs.Count == 0)
            {
                Directory.Delete(Path.GetDirectoryName(FilePath(network))!, recursive: true);
            }
            else
            {
                Write(network, labs);
            }
        }
        return removed;
    }

    /// <summary>A lab with settings or namespaces is still there; a record of any other is stale (its lab was removed by hand).</summary>
    private static bool Alive(string lab) => (LabName.IsValid(lab, out _) && new LabState(lab).Exists) || LabBuilder.Exists(lab);

    private static FileLock Lock()
    {
        Directory.CreateDirectory(Root);
        return FileLock.Acquire(Path.Combine(Root, ".lock"), exclusive: true, s_lockTimeout);
    }

    private static void Write(string network, List<NetworkAllocation> labs)
    {
        var path = FilePath(network);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var sorted = labs.OrderBy(a => a.Slot).ToList();
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(new NetworkFile { Labs = sorted }, NetworkStateJson.Default.NetworkFile));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

/// <summary>networks/NAME/network.json.</summary>
public sealed record NetworkFile
{
    public List<NetworkAllocation> Labs { get; init; } = [];
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(NetworkFile))]
internal sealed partial class NetworkStateJson : JsonSerializerContext;
