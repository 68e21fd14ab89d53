using System.CommandLine;
using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Cli.Commands;

/// <summary>`podnet lab up|down|status|list`: a whole cluster made of network namespaces on this machine.</summary>
internal static class LabCommand
{
    public static Command Create()
    {
        var lab = new Command("lab", "Build and run a whole cluster of network namespaces on this machine.");
        lab.Subcommands.Add(LabUp.Create());
        lab.Subcommands.Add(LabDown.Create());
        lab.Subcommands.Add(LabStatus.Create());
        lab.Subcommands.Add(LabList());
        lab.Subcommands.Add(LabSupervise.Create());
        lab.Subcommands.Add(LabForward.Create());
        lab.Subcommands.Add(LabNodeCommands.Node());
        lab.Subcommands.Add(LabNodeCommands.Link());
        lab.Subcommands.Add(LabUi.Create());
        return lab;
    }

    public static Option<string> NameOption() => new("--name") { Description = $"The lab's name (1-12 of a-z, 0-9, '-'; default {LabName.Default}).", DefaultValueFactory = _ => LabName.Default };

    /// <summary>The lab's state for <paramref name="name"/>, or an error line and null.</summary>
    public static LabState? StateOf(string? name)
    {
        if (!LabName.IsValid(name, out var error))
        {
            Console.Error.WriteLine($"podnet lab: {error}");
            return null;
        }
        return new LabState(name);
    }

    private static Command LabList()
    {
        var command = new Command("list", "List the labs on this machine and whether each is running.");
        command.SetAction(_ =>
        {
            foreach (var name in LabState.List())
            {
                var state = new LabState(name);
                Console.WriteLine($"{name}\t{(state.SupervisorPid is null ? "stopped" : "running")}");
            }
            return 0;
        });
        return command;
    }
}
