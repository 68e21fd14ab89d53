using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// A one-node lab made once for a test class (<c>lab up --nodes 1</c>, its name starting with
/// the prefix given), taken down with the class, also when bringing it up fails.
/// </summary>
public abstract class OneNodeLab : IDisposable
{
    private readonly TempLab _lab;

    protected OneNodeLab(string prefix)
    {
        _lab = new TempLab(prefix);
        if (Privileges.CanMakeNamespaces)
        {
            try
            {
                _lab.Up("--nodes", "1");
            }
            catch
            {
                _lab.Dispose();
                throw;
            }
        }
    }

    internal TempLab Lab => _lab;

    /// <summary>The admin kubeconfig of the lab.</summary>
    internal string Kubeconfig => (string)_lab.Status["kubeconfig"]!;

    /// <summary>kubectl with the admin kubeconfig, <paramref name="stdin"/> as its input.</summary>
    internal ProcessResult Kubectl(string? stdin, params string[] args) =>
        ProcessRunner.Run(null, "kubectl", ["--kubeconfig", Kubeconfig, .. args], standardInput: stdin, timeout: TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        _lab.Dispose();
        GC.SuppressFinalize(this);
    }
}
