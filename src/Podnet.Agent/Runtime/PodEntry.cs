namespace Podnet.Agent.Runtime;

/// <summary>
/// How a process beside the agent (`podnet exec`, `podnet check`) enters a running pod as the
/// kubelet's exec does: the agent's record of the pod gives its holder and the container's
/// process, <see cref="PodSandbox.ExecTarget"/> picks which namespaces to join, and the
/// container's environment comes from its process.
/// </summary>
public sealed record PodEntry(int Target, int ContainerPid)
{
    /// <summary>The entry into pod <paramref name="uid"/> recorded under <paramref name="podsDirectory"/>, or null when the node has no record of it.</summary>
    public static PodEntry? Find(string podsDirectory, string uid, string container)
    {
        if (PodRecordStore.Load(podsDirectory, uid) is not { HolderPid: > 0 } record)
        {
            return null;
        }
        var pid = record.Containers.TryGetValue(container, out var state) ? state.Pid : 0;
        return new PodEntry(PodSandbox.ExecTarget(record.HolderPid, pid), pid);
    }

    /// <summary>nsenter's argv that runs <paramref name="command"/> inside the pod.</summary>
    public IReadOnlyList<string> Argv(IReadOnlyList<string> command) => PodSandbox.EnterArgv(Target, command);

    /// <summary>The container's environment (without the agent's own PODNET_ variables), or null when its process is gone.</summary>
    public IReadOnlyDictionary<string, string>? Environment()
    {
        var path = $"/proc/{ContainerPid}/environ";
        if (ContainerPid <= 0 || !File.Exists(path))
        {
            return null;
        }
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in File.ReadAllText(path).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0 && !pair.StartsWith("PODNET_", StringComparison.Ordinal))
            {
                environment[pair[..eq]] = pair[(eq + 1)..];
            }
        }
        return environment;
    }
}
