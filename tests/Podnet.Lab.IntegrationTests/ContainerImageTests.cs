using Podnet.Kernel;

namespace Podnet.Lab.IntegrationTests;

/// <summary>
/// deploy/image/build.sh builds the image deploy/podnet.yaml runs, with the real podman, into a
/// private storage directory; the containers run with no network (a namespace of their own
/// holding only lo), and the root namespace stays as it was.
/// </summary>
public sealed class ContainerImageTests
{
    [PrivilegedFact]
    public void Build_WithPodman_PodnetAndItsToolsRunInside_RootUntouched()
    {
        var before = RootSnapshot.Take();
        var dir = Directory.CreateTempSubdirectory("pn-image-").FullName;
        var tag = "localhost/podnet:test-" + Guid.NewGuid().ToString("N")[..8];
        var podman = new PrivatePodman(dir);
        ProcessResult Run(params string[] command)
        {
            string[] all = podman.Command(["run", "--rm", "--network", "none", .. PrivatePodman.RunLimits, .. command]);
            return ProcessRunner.Run(null, all[0], all[1..], timeout: TimeSpan.FromMinutes(2));
        }
        try
        {
            var build = ProcessRunner.Run(null, Path.Combine(RepoPaths.Root, "deploy", "image", "build.sh"),
                ["--tag", tag, "--podman-root", dir], timeout: TimeSpan.FromMinutes(15));
            Assert.True(build.Success, build.StandardError);
            Assert.Equal(tag, build.StandardOutput.Trim().Split('\n')[^1]);

            // The image's default command and the path podnet.yaml runs: the same build as bin/podnet.
            var version = Run(tag);
            Assert.True(version.Success, version.StandardError);
            var local = ProcessRunner.Run(null, RepoPaths.Bin("podnet"), ["--version"]);
            Assert.Equal(local.StandardOutput.Trim(), version.StandardOutput.Trim());
            var help = Run(tag, "/usr/local/bin/podnet", "agent", "--help");
            Assert.True(help.Success, help.StandardError);
            Assert.Contains("--mode", help.StandardOutput);

            // The CNI plugin where the agent installs it from, answering VERSION as the spec says.
            var cni = Run("-e", "CNI_COMMAND=VERSION", tag, "/opt/podnet/cni/podnet-ipam");
            Assert.True(cni.Success, cni.StandardError);
            Assert.Contains("\"supportedVersions\"", cni.StandardOutput);
            Assert.Contains("\"1.1.0\"", cni.StandardOutput);

            // The tools work with their libraries (the image has no shell), each inside a
            // container's own namespace: nft makes a table there, ip sees only that namespace's
            // lo, conntrack reads its table, nsenter runs.
            var nft = Run("--cap-add", "NET_ADMIN", tag, "nft", "--echo", "add", "table", "inet", "pn-probe");
            Assert.True(nft.Success, nft.StandardError);
            Assert.Contains("add table inet pn-probe", nft.StandardOutput);
            var links = Run(tag, "ip", "-o", "link", "show");
            Assert.True(links.Success, links.StandardError);
            Assert.Equal(["1: lo:"], links.StandardOutput.Trim().Split('\n').Select(l => l[..6]));
            var conntrack = Run("--cap-add", "NET_ADMIN", tag, "conntrack", "-L");
            Assert.True(conntrack.Success, conntrack.StandardError);
            var nsenter = Run(tag, "nsenter", "--version");
            Assert.Contains("nsenter from util-linux", nsenter.StandardOutput);
        }
        finally
        {
            ProcessRunner.Run(null, "env", podman.Command("system", "reset", "--force")[1..], timeout: TimeSpan.FromMinutes(2));
            Directory.Delete(dir, recursive: true);
        }
        Assert.Equal(before, RootSnapshot.Take());
    }
}
