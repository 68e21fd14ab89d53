using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A one-node lab for the pod runtime's scenarios: volumes, PID namespaces, honest status, agnhost.</summary>
public sealed class PodRuntimeLab() : OneNodeLab("r");

public sealed class PodRuntimeLabTests(PodRuntimeLab fixture) : IClassFixture<PodRuntimeLab>
{
    private TempLab Lab => fixture.Lab;

    private string Kubeconfig => fixture.Kubeconfig;

    private ProcessResult Kubectl(string? stdin, params string[] args) => fixture.Kubectl(stdin, args);

    private ProcessResult Exec(string pod, params string[] command) => Lab.Run(["exec", "--lab", Lab.Name, pod, "--", .. command]);

    private void Apply(string yaml)
    {
        var result = Kubectl(yaml, "apply", "-f", "-");
        Assert.True(result.Success, result.StandardError);
    }

    /// <summary>Runs <paramref name="probe"/> until it returns true or <paramref name="timeout"/> passes.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> probe, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (probe())
            {
                return true;
            }
            await Task.Delay(500);
        }
        return probe();
    }

    private Task<V1Pod> ReadyAsync(string name) => Lab.View.WaitForPodAsync("default", name,
        p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, TimeSpan.FromSeconds(90));

    [PrivilegedFact]
    public async Task Volumes_EachKindSeenInside_EmptyDirShared_ConfigMapChangeReachesTheFile()
    {
        Apply("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: vol-config}
            data: {greeting: hello, other: x}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vol-secret}
            stringData: {password: s3cret}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: vol, labels: {app: vol}}
            spec:
              containers:
              - name: writer
                image: busybox
                command: [sh, -c, 'echo from-writer > /run/podnet-e2e/shared/note; echo mem > /run/podnet-e2e/mem/m; echo host > /run/podnet-e2e/host/h; exec sleep 3600']
                volumeMounts:
                - {name: shared, mountPath: /run/podnet-e2e/shared}
                - {name: mem, mountPath: /run/podnet-e2e/mem}
                - {name: host, mountPath: /run/podnet-e2e/host}
              - name: reader
                image: busybox
                command: [sleep, '3600']
                volumeMounts:
                - {name: shared, mountPath: /run/podnet-e2e/shared}
                - {name: mem, mountPath: /run/podnet-e2e/mem}
                - {name: config, mountPath: /run/podnet-e2e/config}
                - {name: config, mountPath: /run/podnet-e2e/greeting.txt, subPath: greeting}
                - {name: secret, mountPath: /run/podnet-e2e/secret}
                - {name: info, mountPath: /run/podnet-e2e/info}
                - {name: api, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}
                - {name: shared, mountPath: /podnet-e2e-mounts/shared}
                - {name: config, mountPath: /podnet-e2e-mounts/deep/greeting.txt, subPath: greeting}
              volumes:
              - {name: shared, emptyDir: {}}
              - {name: mem, emptyDir: {medium: Memory, sizeLimit: 2Mi}}
              - {name: host, hostPath: {path: /podnet-e2e-data, type: DirectoryOrCreate}}
              - name: config
                configMap: {name: vol-config, items: [{key: greeting, path: greeting}], defaultMode: 0440}
              - {name: secret, secret: {secretName: vol-secret}}
              - name: info
                downwardAPI:
                  items:
                  - {path: name, fieldRef: {fieldPath: metadata.name}}
                  - {path: labels, fieldRef: {fieldPath: metadata.labels}}
              - name: api
                projected:
                  sources:
                  - serviceAccountToken: {path: token}
                  - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
                  - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
            """);
        await ReadyAsync("vol");
        string Read(string container, string script)
        {
            var r = Lab.Run(["exec", "--lab", Lab.Name, "vol", "-c", container, "--", "sh", "-c", script]);
            return r.StandardOutput + r.StandardError;
        }
        Assert.True(await EventuallyAsync(() => Read("reader", "cat /run/podnet-e2e/shared/note /run/podnet-e2e/mem/m") == "from-writer\nmem\n", TimeSpan.FromSeconds(30)));
        Assert.Equal("tmpfs\n", Read("reader", "stat -f -c %T /run/podnet-e2e/mem"));
        Assert.Equal("hello|hello|440|s3cret|vol|app=\"vol\"|default|ca|token", Read("reader",
            "printf '%s|%s|%s|%s|%s|%s|%s|' \"$(cat /run/podnet-e2e/config/greeting)\" \"$(cat /run/podnet-e2e/greeting.txt)\" \"$(stat -L -c %a /run/podnet-e2e/config/greeting)\" "
            + "\"$(cat /run/podnet-e2e/secret/password)\" \"$(cat /run/podnet-e2e/info/name)\" \"$(cat /run/podnet-e2e/info/labels)\" \"$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)\"; "
            + "grep -q 'BEGIN CERTIFICATE' /var/run/secrets/kubernetes.io/serviceaccount/ca.crt && printf 'ca|'; test -s /var/run/secrets/kubernetes.io/serviceaccount/token && printf token"));
        Assert.Contains("ead-only file system", Read("reader", "touch /run/podnet-e2e/config/x 2>&1 || true"));
        Assert.Contains(Directory.GetFiles($"/var/lib/podnet/labs/{Lab.Name}", "h", SearchOption.AllDirectories), f => f.EndsWith("/hostpath/podnet-e2e-data/h", StringComparison.Ordinal) && File.ReadAllText(f) == "host\n");

        Apply("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: vol-config}
            data: {greeting: bonjour, other: x}
            """);
        // The agent writes the volume again within its refresh period (10 s); the subPath file stays as kubelet leaves it.
        Assert.True(await EventuallyAsync(() => Read("reader", "cat /run/podnet-e2e/config/greeting") == "bonjour", TimeSpan.FromSeconds(40)),
            Read("reader", "ls -la /run/podnet-e2e/config; cat /run/podnet-e2e/config/greeting"));
        Assert.Equal("hello", Read("reader", "cat /run/podnet-e2e/greeting.txt"));

        // Mount points the host lacks are made on the host's filesystem for the pod (the pod runs
        // it), seen from inside with the volume, and go with the pod; those under the pod's own
        // /run never touch the host.
        Assert.Equal("from-writer\nhello", Read("reader", "cat /podnet-e2e-mounts/shared/note /podnet-e2e-mounts/deep/greeting.txt"));
        Assert.True(Directory.Exists("/podnet-e2e-mounts/shared") && File.Exists("/podnet-e2e-mounts/deep/greeting.txt"));
        Assert.False(Directory.Exists("/run/podnet-e2e"));
        var deleted = Kubectl(null, "delete", "pod", "vol", "--grace-period=1", "--wait=true");
        Assert.True(deleted.Success, deleted.StandardError);
        var gone = await EventuallyAsync(() => !Directory.Exists("/podnet-e2e-mounts"), TimeSpan.FromSeconds(30));
        Assert.True(gone, gone ? "" : "left on the host: " + string.Join(", ", Directory.GetFileSystemEntries("/podnet-e2e-mounts", "*", SearchOption.AllDirectories)));
    }

    [PrivilegedFact]
    public async Task Ps_InAPod_ListsThePodsProcessesOnly()
    {
        Apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: ps}
            spec:
              shareProcessNamespace: true   # one PID namespace for the pod (without it, each container has its own: KubeletLabTests)
              containers:
              - {name: a, image: busybox, command: [sleep, '3601']}
              - {name: b, image: busybox, command: [sleep, '3602']}
            """);
        await ReadyAsync("ps");
        var ps = Exec("ps", "ps", "-e", "-o", "pid=,args=");
        Assert.True(ps.Success, ps.StandardError);
        var lines = ps.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToArray();
        Assert.Contains(lines, l => l.StartsWith("1 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("sleep 3601", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("sleep 3602", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("podnet agent", StringComparison.Ordinal) || l.Contains("podnet-apiserver", StringComparison.Ordinal));
        Assert.True(lines.Length < 12, ps.StandardOutput);
    }

    [PrivilegedFact]
    public async Task ContainersThatCannotStart_SayWhyInDescribeAndEvents()
    {
        Apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: bad-config}
            spec:
              containers:
              - name: main
                image: busybox
                command: [sleep, '3600']
                env:
                - name: X
                  valueFrom: {configMapKeyRef: {name: kube-root-ca.crt, key: missing-key}}
              - {name: fine, image: busybox, command: [sleep, '3600']}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: bad-image}
            spec:
              containers:
              - {name: main, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [guestbook]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: bad-volume}
            spec:
              containers:
              - {name: main, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: data, mountPath: /data}]}
              volumes:
              - {name: data, persistentVolumeClaim: {claimName: nope}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: bad-command}
            spec:
              containers:
              - {name: main, image: busybox, command: [no-such-command-podnet]}
            """);
        string Describe(string pod) => Kubectl(null, "describe", "pod", pod).StandardOutput;
        var cases = new (string Pod, string[] Expected)[]
        {
            ("bad-config", ["CreateContainerConfigError", "Error: couldn't find key missing-key in ConfigMap default/kube-root-ca.crt"]),
            ("bad-image", ["ErrImagePull", "agnhost guestbook is not built into Podnet"]),
            ("bad-volume", ["FailedMount", "persistentVolumeClaim volumes are not supported by Podnet"]),
            ("bad-command", ["CreateContainerError", "executable file not found in $PATH"]),
        };
        foreach (var (pod, expected) in cases)
        {
            Assert.True(await EventuallyAsync(() => expected.All(Describe(pod).Contains), TimeSpan.FromSeconds(60)), Describe(pod));
            var events = Kubectl(null, "get", "events", "--field-selector", $"involvedObject.name={pod},type=Warning", "-o", "custom-columns=REASON:.reason,SOURCE:.source.component,MESSAGE:.message").StandardOutput;
            Assert.Contains("kubelet", events);
        }
        // The container that can start runs beside the one that cannot.
        var status = await Lab.View.WaitForPodAsync("default", "bad-config", p => p.Status?.ContainerStatuses?.Any(c => c.Name == "fine" && c.State?.Running is not null) == true, TimeSpan.FromSeconds(30));
        Assert.Equal("CreateContainerConfigError", status.Status.ContainerStatuses.Single(c => c.Name == "main").State.Waiting.Reason);
    }

    [PrivilegedFact]
    public async Task AgnhostConnect_FromOnePodToAnother_ConnectedRefusedTimedOut()
    {
        Apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: target, labels: {app: target}}
            spec:
              containers:
              - {name: web, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080], ports: [{containerPort: 8080}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: porter}
            spec:
              containers:
              - name: porter
                image: registry.k8s.io/e2e-test-images/agnhost:2.53
                args: [porter]
                env: [{name: SERVE_PORT_8090, value: foo}, {name: SERVE_UDP_PORT_8091, value: bar}]
              - {name: files, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [test-webserver, --port=8092]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: prober}
            spec:
              containers:
              - {name: probe, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [pause]}
            """);
        var target = await ReadyAsync("target");
        await ReadyAsync("prober");
        var ip = target.Status.PodIP;
        var connected = Exec("prober", "/agnhost", "connect", $"{ip}:8080", "--timeout=1s", "--protocol=tcp");
        Assert.Equal(0, connected.ExitCode);
        Assert.Equal("", connected.StandardError);
        var refused = Exec("prober", "/agnhost", "connect", $"{ip}:8099", "--timeout=1s", "--protocol=tcp");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("REFUSED", refused.StandardError.Trim());
        Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-target}
            spec:
              podSelector: {matchLabels: {app: target}}
              policyTypes: [Ingress]
            """);
        Assert.True(await EventuallyAsync(() => Exec("prober", "/agnhost", "connect", $"{ip}:8080", "--timeout=1s", "--protocol=tcp").StandardError.Trim() == "TIMEOUT", TimeSpan.FromSeconds(30)));
        var timedOut = Exec("prober", "/agnhost", "connect", $"{ip}:8080", "--timeout=1s", "--protocol=tcp");
        Assert.Equal(1, timedOut.ExitCode);
        var porter = await ReadyAsync("porter");
        var pip = porter.Status.PodIP;
        Assert.True(await EventuallyAsync(() => Exec("prober", "curl", "-s", "-m", "2", $"http://{pip}:8090/anything").StandardOutput == "foo", TimeSpan.FromSeconds(30)));
        Assert.Equal(0, Exec("prober", "/agnhost", "connect", $"{pip}:8091", "--timeout=2s", "--protocol=udp").ExitCode); // porter's UDP port answers
        Assert.True(await EventuallyAsync(() => Exec("prober", "curl", "-s", "-m", "2", $"http://{pip}:8092/etc/hosts").StandardOutput.Contains("\tporter"), TimeSpan.FromSeconds(30)));
        var suffix = Exec("prober", "/agnhost", "dns-suffix");
        Assert.Equal("default.svc.cluster.local,svc.cluster.local,cluster.local", suffix.StandardOutput.Trim());
    }
}
