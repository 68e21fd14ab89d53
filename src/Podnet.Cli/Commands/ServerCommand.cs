using System.CommandLine;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet server ARGS`: runs podnet-apiserver ARGS in this process's place (same pid, so what
/// started `podnet server` can signal and wait for it). The server is a NativeAOT binary of its
/// own (src/Podnet.ApiServer.Host), which parses the arguments and prints the help.
/// </summary>
internal static class ServerCommand
{
    public const string Name = "server";

    /// <summary>The entry `podnet --help` lists; <see cref="Run"/> takes the arguments before any parsing.</summary>
    public static Command Create() =>
        new(Name, "Run the Kubernetes-compatible API server (and its controllers) without a lab (podnet server --help for its options).");

    public static int Run(IReadOnlyList<string> arguments)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "podnet-apiserver");
        if (!File.Exists(server))
        {
            Console.Error.WriteLine($"podnet server: {server} is missing (./podnet build puts it beside podnet)");
            return 1;
        }
        try
        {
            Kernel.ProcessImage.Replace(server, arguments);
        }
        catch (Kernel.KernelException e)
        {
            Console.Error.WriteLine($"podnet server: {e.Message}");
        }
        return 1;
    }
}
