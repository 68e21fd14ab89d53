using k8s.Models;
using Podnet.Controllers.ServiceAccounts;
using static Podnet.Controllers.ServiceAccounts.NamespaceDefaultsAction;

namespace Podnet.Controllers.Tests.ServiceAccounts;

public sealed class NamespaceDefaultsCalcTests
{
    private static V1Namespace Ns(string name, bool deleting = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, DeletionTimestamp = deleting ? DateTime.UtcNow : null },
    };

    private static V1ServiceAccount Account(string ns, string name) => new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns } };

    private static V1ConfigMap RootCa(string ns, string? ca) => new()
    {
        Metadata = new V1ObjectMeta { Name = "kube-root-ca.crt", NamespaceProperty = ns, ResourceVersion = "7" },
        Data = ca is null ? null : new Dictionary<string, string> { ["ca.crt"] = ca },
    };

    [Fact]
    public void ServiceAccounts_OnlyActiveNamespacesWithoutDefault_OtherAccountsDoNotCount()
    {
        var actions = NamespaceDefaultsCalc.ServiceAccounts(
            [Ns("b"), Ns("a"), Ns("done"), Ns("gone", deleting: true)],
            [Account("done", "default"), Account("a", "builder")]);
        Assert.Equal([new CreateServiceAccount("a"), new CreateServiceAccount("b")], actions);
    }

    [Fact]
    public void RootCa_CreatesMissing_UpdatesWrongOrEmpty_KeepsRight()
    {
        var actions = NamespaceDefaultsCalc.RootCa(
            [Ns("missing"), Ns("right"), Ns("wrong"), Ns("empty"), Ns("gone", deleting: true)],
            [RootCa("right", "CA"), RootCa("wrong", "old"), RootCa("empty", null)],
            "CA");
        Assert.Equal<NamespaceDefaultsAction>([new UpdateRootCa("empty", "7"), new CreateRootCa("missing"), new UpdateRootCa("wrong", "7")], actions);
    }
}
