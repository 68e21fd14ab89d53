using System.CommandLine;
using System.Text.Json.Nodes;
using Podnet.Lab.Topology;
using Podnet.Ui;

namespace Podnet.Cli.Commands;

/// <summary>`podnet lab ui [--name LAB] [--port N]`: the lab's live web view on 127.0.0.1, until interrupted.</summary>
internal static class LabUi
{
    public static Command Create()
    {
        var name = LabCommand.NameOption();
        var port = new Option<int>("--port") { Description = "The port on 127.0.0.1 to serve the page on (default 0: a free one; the URL is printed).", DefaultValueFactory = _ => 0 };
        var command = new Command("ui", "Serve a live web view of the lab (topology, pods, Services) on 127.0.0.1; it only reads the cluster.") { name, port };
        command.SetAction(async (parse, token) =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            if (parse.GetValue(port) is var p && p is < 0 or > 65535)
            {
                Console.Error.WriteLine($"podnet lab ui: --port {p}: not a port (0-65535)");
                return 2;
            }
            if (!state.Exists || !File.Exists(state.Kubeconfig))
            {
                Console.Error.WriteLine($"podnet lab ui: no running lab named {state.Name} (start it with ./podnet lab up --name {state.Name})");
                return 1;
            }
            var lab = LabStatus.Build(state);
            var plan = LabPlanner.Build(state.LoadSettings().ToSpec());
            lab["fabric"] = new JsonObject { ["netns"] = plan.FabricNetns, ["subnets"] = new JsonArray(plan.FabricSubnets.Select(s => (JsonNode)s.ToString()).ToArray()) };
            lab["bridge"] = Agent.Runtime.CniConfigPlanner.Bridge;
            lab["policyDeny"] = state.LoadSettings().PolicyDeny ?? "drop";
            UiServer server;
            try
            {
                server = await UiServer.StartAsync(new UiOptions(KubeconfigFile.Load(state.Kubeconfig), lab, parse.GetValue(port), Log: line => Console.Error.WriteLine($"podnet lab ui: {line}")), token);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"podnet lab ui: cannot listen on 127.0.0.1:{parse.GetValue(port)}: {e.Message}");
                return 1;
            }
            await using (server)
            {
                Console.WriteLine($"lab {state.Name}: web view at {server.Url} (Ctrl-C to stop)");
                await server.RunAsync(token);
            }
            return 0;
        });
        return command;
    }
}
