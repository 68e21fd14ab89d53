using System.Text.Json;
using System.Text.Json.Serialization;
using Podnet.Kernel;

namespace Podnet.TestServer;

/// <summary>One pod the node's test server serves, as the agent writes it: DIR/KEY.json.</summary>
public sealed record PodServerEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("netns")] string Netns,
    [property: JsonPropertyName("http")] IReadOnlyList<int> HttpPorts,
    [property: JsonPropertyName("udp")] IReadOnlyList<int> UdpPorts,
    [property: JsonPropertyName("hostnameOnly")] bool HostnameOnly = false);

[JsonSerializable(typeof(PodServerEntry))]
internal sealed partial class PodServerJson : JsonSerializerContext;

/// <summary>
/// The node's test-server process follows a directory: one JSON file per pod to serve. The
/// agent writes a file when a pod without a command starts and removes it when the pod goes,
/// and this process (supervised on its own) opens or closes that pod's sockets. Because the
/// two only share files, pods keep being served while the agent restarts.
/// </summary>
/// <remarks>Level-triggered: a change in the directory, or a periodic rescan, reconciles the whole set.</remarks>
public sealed class PodServerDirectory(string directory, TestServerHost host, Action<string>? log = null)
{
    public static void Write(string directory, string key, PodServerEntry entry)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, key + ".json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(entry, PodServerJson.Default.PodServerEntry));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static void Remove(string directory, string key) => File.Delete(Path.Combine(directory, key + ".json"));

    /// <summary>True once the serving process has the pod's sockets open (it marks KEY.serving).</summary>
    public static bool IsServing(string directory, string key) => File.Exists(Path.Combine(directory, key + ".serving"));

    public async Task RunAsync(CancellationToken stop)
    {
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetFiles(directory, "*.serving"))
        {
            File.Delete(stale); // this process serves nothing yet
        }
        var changed = new SemaphoreSlim(0);
        using var watcher = Watch(changed);
        // Without a watcher, a rescan every half second stands in for its events.
        var rescan = watcher is null ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(2);
        while (!stop.IsCancellationRequested)
        {
            await SyncAsync();
            try
            {
                await changed.WaitAsync(rescan, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// A watcher on the directory that releases <paramref name="changed"/> at every change, or
    /// null when the kernel gives no inotify instance: they are counted per user (128 by
    /// default, fs.inotify.max_user_instances), and a 100-node lab runs 100 of these processes
    /// as root beside everything else root runs.
    /// </summary>
    private FileSystemWatcher? Watch(SemaphoreSlim changed)
    {
        var watcher = new FileSystemWatcher(directory, "*.json");
        try
        {
            watcher.Created += (_, _) => changed.Release();
            watcher.Deleted += (_, _) => changed.Release();
            watcher.Renamed += (_, _) => changed.Release();
            watcher.Changed += (_, _) => changed.Release();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (IOException e)
        {
            watcher.Dispose();
            log?.Invoke($"no watch on {directory} ({e.Message}): rescanning it every 0.5 s");
            return null;
        }
    }

    /// <summary>Serves exactly the pods the directory lists.</summary>
    public async Task SyncAsync()
    {
        var wanted = new Dictionary<string, PodServerEntry>();
        foreach (var path in Directory.GetFiles(directory, "*.json"))
        {
            try
            {
                var entry = JsonSerializer.Deserialize(File.ReadAllText(path), PodServerJson.Default.PodServerEntry);
                if (entry is not null)
                {
                    wanted[Path.GetFileNameWithoutExtension(path)] = entry;
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                log?.Invoke($"skipping {path}: {e.Message}");
            }
        }
        foreach (var key in host.Keys.Where(k => !wanted.ContainsKey(k)))
        {
            await host.RemoveAsync(key);
            File.Delete(Path.Combine(directory, key + ".serving"));
            log?.Invoke($"stopped serving {key}");
        }
        foreach (var (key, entry) in wanted.Where(w => !host.Keys.Contains(w.Key)))
        {
            try
            {
                using var netns = Netns.Open(entry.Netns);
                host.Add(key, new TestServerSpec(entry.Name, entry.HttpPorts, entry.UdpPorts, entry.HostnameOnly), netns);
                File.WriteAllText(Path.Combine(directory, key + ".serving"), "");
                log?.Invoke($"serving {key} as {entry.Name} in {entry.Netns}");
            }
            catch (Exception e) when (e is KernelException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                log?.Invoke($"cannot serve {key}: {e.Message}");
            }
        }
    }
}
