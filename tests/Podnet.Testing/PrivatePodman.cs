namespace Podnet.Testing;

/// <summary>
/// podman with a store and configuration of its own under <paramref name="directory"/> (its
/// --root and --runroot, the vfs driver, cgroupfs, runc, events in a file), so a test never
/// touches the machine's containers or images; <paramref name="extraConfig"/> is appended to
/// containers.conf (a [network] section, say).
/// </summary>
public sealed class PrivatePodman
{
    public PrivatePodman(string directory, string extraConfig = "")
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        ConfigPath = Path.Combine(directory, "containers.conf");
        File.WriteAllText(ConfigPath, $"""
            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            events_logfile_path = "{directory}/events.log"
            runtime = "runc"
            tmp_dir = "{directory}/tmp"

            """ + extraConfig);
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    /// <summary>The command line of `podman ARGS` against this store (starting with env, for CONTAINERS_CONF).</summary>
    public string[] Command(params string[] arguments) =>
        ["env", $"CONTAINERS_CONF={ConfigPath}", "podman", "--root", $"{Directory}/root", "--runroot", $"{Directory}/runroot", "--storage-driver", "vfs", .. arguments];

    /// <summary>
    /// `podman run --rm` options every test needs here: this VM's hard rlimits are below
    /// podman's defaults, so they are set explicitly.
    /// </summary>
    public static readonly string[] RunLimits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
}
