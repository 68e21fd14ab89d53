using System.CommandLine;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Lab.State;
using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab node stop|start NODE`: a node fails as a machine would — its link to the
/// fabric goes down and its agent stops (the supervisor holds it) — and comes back.
/// `podnet lab link down|up NODE` cuts only the link.
/// </summary>
internal static class LabNodeCommands
{
    public static Command Node()
    {
        var node = new Command("node", "Stop or start a lab node as a machine would fail and come back.");
        node.Subcommands.Add(Verb("stop", "Take the node's fabric link down and stop its agent.", (state, name) =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Supervisor.HoldPath(state.Directory, $"agent-{name}"))!);
            File.WriteAllText(Supervisor.HoldPath(state.Directory, $"agent-{name}"), "");
            if (Supervisor.ReadPid(state.Directory, $"agent-{name}") is { } pid)
            {
                ProcessSignals.Kill(pid, ProcessSignals.SigKill);
            }
            SetLink(state, name, up: false);
            Console.Error.WriteLine($"podnet lab: node {name} stopped (link down, agent stopped)");
        }));
        node.Subcommands.Add(Verb("start", "Bring the node's link up and its agent back.", (state, name) =>
        {
            SetLink(state, name, up: true);
            File.Delete(Supervisor.HoldPath(state.Directory, $"agent-{name}"));
            Console.Error.WriteLine($"podnet lab: node {name} started (link up, agent starting)");
        }));
        return node;
    }

    public static Command Link()
    {
        var link = new Command("link", "Cut or restore a lab node's link to the fabric.");
        link.Subcommands.Add(Verb("down", "Take the node's fabric link down.", (state, name) => SetLink(state, name, up: false)));
        link.Subcommands.Add(Verb("up", "Bring the node's fabric link up.", (state, name) => SetLink(state, name, up: true)));
        return link;
    }

    private static Command Verb(string verb, string description, Action<LabState, string> action)
    {
        var node = new Argument<string>("NODE") { Description = "The node (n1, n2, …)." };
        var name = LabCommand.NameOption();
        var command = new Command(verb, description) { node, name };
        command.SetAction(parse =>
        {
            if (LabCommand.StateOf(parse.GetValue(name)) is not { } state)
            {
                return 2;
            }
            if (!state.Exists)
            {
                Console.Error.WriteLine($"podnet lab: no lab named {state.Name}");
                return 1;
            }
            var plan = LabPlanner.Build(state.LoadSettings().ToSpec());
            var target = parse.GetValue(node)!;
            if (plan.Nodes.All(n => n.Name != target))
            {
                Console.Error.WriteLine($"podnet lab: {state.Name} has no node {target} (nodes: {string.Join(", ", plan.Nodes.Select(n => n.Name))})");
                return 1;
            }
            action(state, target);
            return 0;
        });
        return command;
    }

    /// <summary>The node's port on the fabric bridge, in the fabric namespace, down or up.</summary>
    private static void SetLink(LabState state, string node, bool up)
    {
        using var fabric = Netns.Open(LabPlanner.NetnsName(state.Name, "fabric"));
        using var rt = RtNetlink.Open(fabric);
        if (up)
        {
            rt.SetUp(node);
        }
        else
        {
            rt.SetDown(node);
        }
    }
}
