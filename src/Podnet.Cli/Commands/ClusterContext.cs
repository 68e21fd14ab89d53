using System.CommandLine;
using k8s;
using Podnet.Lab.State;

namespace Podnet.Cli.Commands;

/// <summary>
/// Which cluster a command talks to: --kubeconfig FILE, or --lab NAME; with neither, the only
/// running lab, else $KUBECONFIG; else an error that lists the labs.
/// </summary>
internal sealed record ClusterContext(string Kubeconfig, LabState? Lab)
{
    public static Option<string> KubeconfigOption() => new("--kubeconfig") { Description = "The cluster's kubeconfig." };

    public static Option<string> LabOption() => new("--lab") { Description = "The lab to talk to." };

    public static ClusterContext? Resolve(string? kubeconfig, string? lab)
    {
        if (kubeconfig is not null)
        {
            return new ClusterContext(kubeconfig, null);
        }
        if (lab is not null)
        {
            if (LabCommand.StateOf(lab) is not { } state)
            {
                return null;
            }
            if (!state.Exists)
            {
                Console.Error.WriteLine($"podnet: no lab named {lab} (labs: {Labs()})");
                return null;
            }
            return new ClusterContext(state.Kubeconfig, state);
        }
        var running = LabState.List().Select(n => new LabState(n)).Where(s => s.SupervisorPid is not null).ToArray();
        if (running.Length == 1)
        {
            return new ClusterContext(running[0].Kubeconfig, running[0]);
        }
        if (Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } env)
        {
            return new ClusterContext(env, null);
        }
        Console.Error.WriteLine(running.Length == 0
            ? $"podnet: no running lab and no KUBECONFIG; give --lab NAME or --kubeconfig FILE (labs: {Labs()})"
            : $"podnet: several labs are running ({string.Join(", ", running.Select(r => r.Name))}); give --lab NAME");
        return null;
    }

    public Kubernetes Client() => new(KubeconfigFile.Load(Kubeconfig));

    private static string Labs() => string.Join(", ", LabState.List()) switch { "" => "none", var l => l };
}
