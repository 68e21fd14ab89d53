using System.CommandLine;
using Podnet.Cli.Commands;

namespace Podnet.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args is [ServerCommand.Name, .. var serverArguments])
        {
            return ServerCommand.Run(serverArguments);
        }
        var root = new RootCommand("Podnet: Kubernetes cluster networking, and a lab made of network namespaces.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(LabCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ConnectCommand.Create());
        root.Subcommands.Add(AgnhostCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(ExecCommand.Create());
        root.Subcommands.Add(LogsCommand.Create());
        root.Subcommands.Add(GetCommand.Create());
        root.Subcommands.Add(ObjectCommands.Apply());
        root.Subcommands.Add(ObjectCommands.Delete());
        root.Subcommands.Add(ObjectCommands.Scale());
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(ControllersCommand.Create());
        root.Subcommands.Add(DnsCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(TraceCommand.Create());
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (HttpRequestException e)
        {
            // A server that cannot be reached is the user's to fix, said as kubectl says it, not a crash.
            Console.Error.WriteLine(Podnet.Cli.Objects.ApiClient.Unreachable(e));
            return 1;
        }
    }
}
