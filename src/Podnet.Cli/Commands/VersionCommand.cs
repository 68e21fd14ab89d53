using System.CommandLine;
using System.Reflection;

namespace Podnet.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print Podnet's version.");
        command.SetAction(_ =>
        {
            var version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            Console.WriteLine($"podnet {version}");
            return 0;
        });
        return command;
    }
}
