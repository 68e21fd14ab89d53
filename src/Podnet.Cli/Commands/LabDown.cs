using System.CommandLine;
using System.Text.Json.Nodes;
using k8s;
using Podnet.Kernel;
using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab down`: stops the supervisor and every process it ran, kills what is left of the
/// pods and any other process still inside the lab's namespaces (counted in its last line),
/// removes every namespace of the lab (also after a crash), and its state unless kept (with the
/// mount points made on the host for its pods' volumes).
/// </summary>
internal static class LabDown
{
    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var keep = new Option<bool>("--keep-state") { Description = "Keep the state directory (the API's objects), so that `lab up` resumes the lab." };
        var command = new Command("down", "Remove everything a lab made: processes, namespaces, and its state unless --keep-state.") { name, keep };
        command.SetAction(parse =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            Stop(state);
            if (state.Exists && state.LoadSettings() is { UsesExternalApiServer: true } settings && !parse.GetValue(keep))
            {
                ForgetNodes(state, settings);
            }
            var ended = LabBuilder.EndProcesses(state.Name);
            var removed = LabBuilder.Down(state.Name).Concat(NetworkState.Leave(state.Name, keepSlot: parse.GetValue(keep))).ToList();
            if (!parse.GetValue(keep) && Directory.Exists(state.Directory))
            {
                Directory.Delete(state.Directory, recursive: true);
                new MountPoints().Sweep(); // the mount points on the host that only this lab's pods used
            }
            Console.Error.WriteLine(removed.Count == 0 && !state.Exists
                ? $"podnet lab: no lab named {state.Name} was here"
                : $"podnet lab: {state.Name} is down ({removed.Count} namespaces removed, {ended} leftover processes ended{(parse.GetValue(keep) ? $", state kept in {state.Directory}" : "")})");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A lab on an existing API server (`lab up --kubeconfig`) deletes the Node objects its nodes
    /// registered there, which would otherwise stay NotReady forever, and the pods bound to them;
    /// the rest of that server's objects are its users' and stay.
    /// </summary>
    private static void ForgetNodes(LabState state, LabSettings settings)
    {
        try
        {
            using var client = new k8s.Kubernetes(KubeconfigFile.Load(state.ExternalKubeconfigCopy));
            foreach (var node in LabPlanner.Build(settings.ToSpec()).Nodes)
            {
                try
                {
                    // As upstream's pod garbage collector does for pods bound to a node that is gone.
                    foreach (var pod in client.CoreV1.ListPodForAllNamespaces(fieldSelector: $"spec.nodeName={node.Name}").Items)
                    {
                        client.CoreV1.DeleteNamespacedPod(pod.Metadata.Name, pod.Metadata.NamespaceProperty, gracePeriodSeconds: 0);
                    }
                    client.CoreV1.DeleteNode(node.Name);
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                }
            }
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or HttpRequestException or k8s.Autorest.HttpOperationException)
        {
            Console.Error.WriteLine($"podnet lab: could not delete the lab's nodes from the API server: {e.Message}");
        }
    }

    /// <summary>Stops the supervisor (SIGTERM, then SIGKILL), every process it recorded, and every pod process.</summary>
    public static void Stop(LabState state)
    {
        if (state.SupervisorPid is { } supervisor)
        {
            ProcessSignals.Kill(supervisor, ProcessSignals.SigTerm);
            for (var i = 0; i < 150 && ProcessSignals.IsAlive(supervisor); i++)
            {
                Thread.Sleep(100);
            }
            ProcessSignals.Kill(supervisor, ProcessSignals.SigKill);
        }
        foreach (var pid in Pids(Path.Combine(state.Directory, "pids")))
        {
            ProcessSignals.Kill(pid, ProcessSignals.SigKill);
        }
        foreach (var record in Directory.Exists(Path.Combine(state.Directory, "nodes"))
            ? Directory.GetFiles(Path.Combine(state.Directory, "nodes"), "record.json", SearchOption.AllDirectories)
            : [])
        {
            KillPod(record);
        }
    }

    private static IEnumerable<int> Pids(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory, "*.pid").Select(f => int.TryParse(File.ReadAllText(f).Trim(), out var pid) ? pid : 0).Where(p => p > 0)
            : [];

    /// <summary>Kills a pod's holder and its containers' process groups, from its record.</summary>
    private static void KillPod(string recordPath)
    {
        try
        {
            var record = JsonNode.Parse(File.ReadAllText(recordPath))!;
            foreach (var container in record["Containers"]?.AsObject() ?? [])
            {
                if ((int?)container.Value?["Pid"] is > 0 and var pid)
                {
                    ProcessSignals.KillGroup(pid, ProcessSignals.SigKill);
                }
            }
            if ((int?)record["HolderPid"] is > 0 and var holder)
            {
                ProcessSignals.Kill(holder, ProcessSignals.SigKill);
            }
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidOperationException)
        {
            Console.Error.WriteLine($"podnet lab: cannot read {recordPath}: {e.Message}");
        }
    }
}
