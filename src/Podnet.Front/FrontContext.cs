using Podnet.Lab.State;
using Podnet.Lab.Topology;

namespace Podnet.Front;

/// <summary>
/// The cluster a command talks to, as the full CLI's ClusterContext picks it: --kubeconfig FILE,
/// or --lab NAME; with neither, the only running lab, else $KUBECONFIG. Its error cases (a bad
/// or unknown lab name, no lab and no KUBECONFIG, several labs) return null: the full CLI says them.
/// </summary>
internal sealed record FrontContext(string Kubeconfig, LabState? Lab)
{
    public static FrontContext? Resolve(string? kubeconfig, string? lab)
    {
        if (kubeconfig is not null)
        {
            return new FrontContext(kubeconfig, null);
        }
        if (lab is not null)
        {
            return LabName.IsValid(lab, out _) && new LabState(lab) is { Exists: true } state ? new FrontContext(state.Kubeconfig, state) : null;
        }
        var running = LabState.List().Select(n => new LabState(n)).Where(s => s.SupervisorPid is not null).ToArray();
        if (running.Length == 1)
        {
            return new FrontContext(running[0].Kubeconfig, running[0]);
        }
        return Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } env ? new FrontContext(env, null) : null;
    }
}
