using System.CommandLine;
using System.Text.Json.Nodes;
using k8s;
using Podnet.Lab.State;

namespace Podnet.Cli.Commands;

/// <summary>`podnet lab status [--name NAME] [-o json]`.</summary>
internal static class LabStatus
{
    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var output = new Option<string>("--output", "-o") { Description = "json for a machine-readable status." };
        var command = new Command("status", "Show a lab: its control plane, outside host, nodes, architecture and routing.") { name, output };
        command.SetAction(parse =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            if (!state.Exists)
            {
                Console.Error.WriteLine($"podnet lab: no lab named {state.Name} (labs here: {string.Join(", ", LabState.List()) switch { "" => "none", var l => l }})");
                return 1;
            }
            return Print(state, parse.GetValue(output) == "json");
        });
        return command;
    }

    public static int Print(LabState state, bool json) =>
        LabStatusReport.Print(state, ApiServer(state), ReadNodes(state), json, Console.Out);

    internal static JsonObject Build(LabState state) => LabStatusReport.Build(state, ApiServer(state), ReadNodes(state));

    private static string? ApiServer(LabState state)
    {
        try
        {
            return File.Exists(state.Kubeconfig) ? KubeconfigFile.Load(state.Kubeconfig).Host : null;
        }
        catch (k8s.Exceptions.KubeConfigException)
        {
            return null;
        }
    }

    private static Dictionary<string, (string? PodCidr, bool Ready)> ReadNodes(LabState state)
    {
        var result = new Dictionary<string, (string?, bool)>();
        if (state.SupervisorPid is null || !File.Exists(state.Kubeconfig))
        {
            return result;
        }
        try
        {
            using var client = new Kubernetes(KubeconfigFile.Load(state.Kubeconfig));
            foreach (var node in client.CoreV1.ListNode().Items)
            {
                result[node.Metadata.Name] = (node.Spec?.PodCIDR, LabUp.IsReady(node));
            }
        }
        catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or IOException)
        {
        }
        return result;
    }
}
