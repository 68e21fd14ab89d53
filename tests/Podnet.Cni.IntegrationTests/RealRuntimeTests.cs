using Podnet.Cni.IntegrationTests.Infrastructure;

namespace Podnet.Cni.IntegrationTests;

/// <summary>
/// Runtimes nobody here wrote (Debian's containerd 1.6 ctr and podman 4.3 with its CNI
/// backend) start a busybox container whose address comes from podnet-cni; it reaches its
/// gateway, and the runtime's DEL releases the address.
/// </summary>
public sealed class RealRuntimeTests
{
    private const string Probe = "ip -4 addr show eth0; ping -c1 -W3 {0}";

    [PrivilegedFact]
    public void Containerd_CtrRunCni_GetsAddressFromPodnet_ReachesGateway_DelReleases()
    {
        using var lab = new RuntimeLab();
        var ctr = Containerd.Start(lab);

        // Foreground `ctr run --rm --cni` sends ADD, then DEL (with an empty CNI_NETNS) after the task exits.
        var run = ctr.Run("run", "--rm", "--cni", "--rootfs", lab.Rootfs, "pn-ctr-1", "/bin/sh", "-c", string.Format(Probe, "10.95.0.1"));
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        Assert.Contains("inet 10.95.0.2/24", run.StandardOutput);
        Assert.Contains("1 packets received", run.StandardOutput);
        Assert.Empty(lab.Reservations("pnctr"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
    }

    /// <summary>`ctr run -d --cni` never sends DEL (a ctr limitation): GC with the runtime's list of live attachments takes the address back.</summary>
    [PrivilegedFact]
    public void Containerd_DetachedRunLeaksWithoutDel_GcReleasesIt()
    {
        using var lab = new RuntimeLab();
        var ctr = Containerd.Start(lab);
        var run = ctr.Run("run", "-d", "--cni", "--rootfs", lab.Rootfs, "pn-ctr-d", "/bin/sleep", "300");
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        Assert.Single(lab.Reservations("pnctr"));
        Assert.True(ctr.Run("task", "kill", "-s", "KILL", "pn-ctr-d").Success);
        for (var i = 0; i < 50 && ctr.Run("task", "delete", "pn-ctr-d").ExitCode != 0; i++)
        {
            Thread.Sleep(100);
        }
        Assert.True(ctr.Run("container", "delete", "pn-ctr-d").Success);
        Assert.Single(lab.Reservations("pnctr")); // leaked: ctr sent no DEL

        var gcList = lab.Conflist("pnctr", "pn0", "10.95.0.0/24").Replace("\"1.0.0\"", "\"1.1.0\"", StringComparison.Ordinal);
        var client = new Podnet.Cni.Client.CniClient([PluginBinary.Directory], Path.Combine(lab.Dir, "cache"));
        lab.Node.Netns.Run(() => client.Gc(Podnet.Cni.Client.NetworkConfigList.Parse(gcList), []));
        Assert.Empty(lab.Reservations("pnctr"));
    }

    [PrivilegedFact]
    public void Podman_CniBackend_GetsAddressFromPodnet_ReachesGateway_DelReleases()
    {
        RuntimeLab.Require("podman", "podman");
        RuntimeLab.Require("runc", "runc");
        _ = PluginBinary.Cni;
        using var lab = new RuntimeLab();
        var pm = Path.Combine(lab.Dir, "podman");
        var netd = Path.Combine(pm, "net.d");
        Directory.CreateDirectory(netd);
        File.WriteAllText(Path.Combine(netd, "pnpod.conflist"), lab.Conflist("pnpod", "pn1", "10.94.0.0/24"));
        var podman = new PrivatePodman(pm, $"""
            [network]
            network_backend = "cni"
            network_config_dir = "{netd}"
            cni_plugin_dirs = ["{PluginBinary.Directory}", "/usr/lib/cni"]
            """);
        string[] Podman(params string[] args) => podman.Command(args);
        var layer = Path.Combine(lab.Dir, "layer.tar");
        Assert.True(Tools.Run(null, "tar", "-C", lab.Rootfs, "-cf", layer, ".").Success);
        var import = lab.InNode(Podman("import", layer, "localhost/pn-busybox:latest"));
        Assert.True(import.Success, import.StandardError);

        var run = lab.InNode(Podman(["run", "--rm", .. PrivatePodman.RunLimits, "--network", "pnpod",
            "localhost/pn-busybox:latest", "/bin/sh", "-c", string.Format(Probe, "10.94.0.1")]));
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        Assert.Contains("inet 10.94.0.2/24", run.StandardOutput);
        Assert.Contains("1 packets received", run.StandardOutput);
        Assert.Empty(lab.Reservations("pnpod"));
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        lab.InNode(Podman("system", "reset", "--force"));
    }

    /// <summary>A private containerd (CRI off) in the node namespace, and ctr with podnet's conflist.</summary>
    private sealed class Containerd
    {
        private readonly RuntimeLab _lab;
        private readonly string _socket;
        private readonly string _wrapper;

        private Containerd(RuntimeLab lab, string socket, string wrapper)
        {
            _lab = lab;
            _socket = socket;
            _wrapper = wrapper;
        }

        public static Containerd Start(RuntimeLab lab)
        {
            RuntimeLab.Require("containerd", "containerd");
            RuntimeLab.Require("ctr", "containerd");
            RuntimeLab.Require("runc", "runc");
            _ = PluginBinary.Cni;
            var ctrd = Path.Combine(lab.Dir, "ctrd");
            var netd = Path.Combine(lab.Dir, "net.d");
            Directory.CreateDirectory(ctrd);
            Directory.CreateDirectory(netd);
            File.WriteAllText(Path.Combine(netd, "10-podnet.conflist"), lab.Conflist("pnctr", "pn0", "10.95.0.0/24"));
            File.WriteAllText(Path.Combine(ctrd, "config.toml"), $"""
                version = 2
                root = "{ctrd}/root"
                state = "{ctrd}/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "{ctrd}/containerd.sock"
                [ttrpc]
                  address = "{ctrd}/containerd.ttrpc.sock"
                """);
            // ctr reads only /etc/cni/net.d and finds plugins in /usr/lib/cni: give it both through
            // overlays in a private mount namespace, so the real /etc and /usr are never written.
            var wrapper = Path.Combine(lab.Dir, "ctr-cni.sh");
            File.WriteAllText(wrapper, $"""
                set -e
                mkdir -p {lab.Dir}/ov/etc-up {lab.Dir}/ov/etc-work {lab.Dir}/ov/cni-up {lab.Dir}/ov/cni-work
                mount -t overlay overlay -o lowerdir=/etc,upperdir={lab.Dir}/ov/etc-up,workdir={lab.Dir}/ov/etc-work /etc
                mkdir -p /etc/cni/net.d
                mount --bind {netd} /etc/cni/net.d
                mount -t overlay overlay -o lowerdir={PluginBinary.Directory}:/usr/lib/cni,upperdir={lab.Dir}/ov/cni-up,workdir={lab.Dir}/ov/cni-work /usr/lib/cni
                exec "$@"
                """);
            lab.StartDaemon(Path.Combine(ctrd, "log"), "containerd", "--config", Path.Combine(ctrd, "config.toml"));
            var socket = Path.Combine(ctrd, "containerd.sock");
            for (var i = 0; i < 100 && !File.Exists(socket); i++)
            {
                Thread.Sleep(100);
            }
            Assert.True(File.Exists(socket), "containerd did not start: " + File.ReadAllText(Path.Combine(ctrd, "log")));
            return new Containerd(lab, socket, wrapper);
        }

        /// <summary>ctr in the node namespace, with the private /etc/cni/net.d and /usr/lib/cni.</summary>
        public Podnet.Kernel.ProcessResult Run(params string[] args) =>
            _lab.InNode(["unshare", "-m", "--propagation", "private", "sh", _wrapper, "ctr", "--address", _socket, .. args]);
    }
}
