using System.CommandLine;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet lab …`. The lab itself (issue "The lab: nodes and pods on one machine") is not
/// built yet; until it is, `lab up` says so and what can be used today, and fails.
/// </summary>
internal static class LabCommand
{
    public static Command Create()
    {
        var lab = new Command("lab", "Build and run a whole cluster of network namespaces on this machine.");
        var up = new Command("up", "Bring up a lab (not available yet).");
        up.Options.Add(new Option<bool>("--demo") { Description = "Apply examples/demo.yaml once the lab is up." });
        up.Options.Add(new Option<string>("--name") { Description = "Lab name (1-12 of a-z, 0-9, '-')." });
        up.Options.Add(new Option<int>("--nodes") { Description = "Number of nodes." });
        up.SetAction(_ =>
        {
            Console.Error.WriteLine("""
                podnet: the lab is not built yet.

                `podnet lab up --demo` will build a multi-node cluster out of network namespaces
                (a fabric, a control plane with an embedded Kubernetes API server, an outside
                host and N nodes), start one agent per node, apply a demo Deployment and Service,
                and print what to try.

                What runs today: the kernel layer (rtnetlink, namespaces, nft, conntrack) and its
                tests: ./test.sh
                """);
            return 2;
        });
        lab.Subcommands.Add(up);
        return lab;
    }
}
