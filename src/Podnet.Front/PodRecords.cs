using System.Text.Json;
using Podnet.Agent.Runtime;
using Podnet.Kernel;
using Podnet.Lab.State;

namespace Podnet.Front;

/// <summary>
/// `podnet exec`'s way into a pod without asking the API server: the lab's nodes keep a record
/// of each pod they run (nodes/NODE/pods/UID/record.json, <see cref="PodRecord"/>) naming its
/// namespace, name, holder and containers' processes — what the full CLI finds after reading the
/// pod from the server. Only a single live match is taken (a running holder, not stopped for
/// deletion); with none or several (a pod being replaced), or no -c and several containers (the
/// first container is the spec's, which only the server knows), the full CLI takes the command.
/// </summary>
internal static class PodRecords
{
    /// <summary>Records are small; a bigger file is not one.</summary>
    private const long MaxBytes = 1 << 20;

    public static PodEntry? Find(LabState state, string ns, string name, string? container)
    {
        var nodes = Path.Combine(state.Directory, "nodes");
        if (!Directory.Exists(nodes))
        {
            return null;
        }
        PodEntry? found = null;
        foreach (var pods in Directory.EnumerateDirectories(nodes).Select(n => Path.Combine(n, "pods")).Where(Directory.Exists))
        {
            foreach (var record in Directory.EnumerateDirectories(pods).Select(p => Path.Combine(p, "record.json")))
            {
                if (Match(record, ns, name, container) is not { } entry)
                {
                    continue;
                }
                if (found is not null)
                {
                    return null;
                }
                found = entry;
            }
        }
        return found;
    }

    /// <summary>The entry <paramref name="path"/> records for pod NS/NAME, or null when it records another pod, a stopped one or cannot be read.</summary>
    internal static PodEntry? Match(string path, string ns, string name, string? container)
    {
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.Length > MaxBytes)
            {
                return null;
            }
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("Namespace", out var n) || n.ValueKind != JsonValueKind.String || n.GetString() != ns
                || !root.TryGetProperty("Name", out var p) || p.ValueKind != JsonValueKind.String || p.GetString() != name
                || !root.TryGetProperty("HolderPid", out var h) || !h.TryGetInt32(out var holder) || holder <= 0
                || (root.TryGetProperty("Stopped", out var stopped) && stopped.ValueKind == JsonValueKind.True)
                || !root.TryGetProperty("Containers", out var containers) || containers.ValueKind != JsonValueKind.Object
                || !ProcessSignals.IsAlive(holder))
            {
                return null;
            }
            var all = containers.EnumerateObject().ToArray();
            if (container is null && all.Length != 1)
            {
                return null;
            }
            var chosen = container is null ? all[0].Value : containers.TryGetProperty(container, out var c) ? c : default;
            var pid = chosen.ValueKind == JsonValueKind.Object && chosen.TryGetProperty("Pid", out var pidValue) && pidValue.TryGetInt32(out var value) ? value : 0;
            return new PodEntry(PodSandbox.ExecTarget(holder, pid), pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
