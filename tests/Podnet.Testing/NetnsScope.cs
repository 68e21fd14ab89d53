using System.Collections.Concurrent;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Testing;

/// <summary>
/// Throwaway network namespaces for one test, named <c>pn-t…</c>, removed on dispose and, as a
/// last resort, when the test process exits. Each comes with loopback up and an open
/// <see cref="RtNetlink"/> handle.
/// </summary>
public sealed class NetnsScope : IDisposable
{
    private static readonly ConcurrentDictionary<string, byte> s_live = new();
    private readonly List<TestNamespace> _namespaces = [];

    static NetnsScope()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var name in s_live.Keys)
            {
                TryDelete(name);
            }
        };
    }

    /// <summary>Creates a namespace; <paramref name="label"/> is only for readability in failures.</summary>
    public TestNamespace Create(string label = "ns")
    {
        var name = "pn-t" + Guid.NewGuid().ToString("N")[..10] + "-" + label;
        s_live[name] = 0;
        var netns = Netns.Create(name);
        var rt = RtNetlink.Open(netns);
        rt.SetUp("lo");
        var created = new TestNamespace(name, netns, rt);
        _namespaces.Add(created);
        return created;
    }

    public void Dispose()
    {
        foreach (var ns in _namespaces)
        {
            ns.Rt.Dispose();
            ns.Netns.Dispose();
            TryDelete(ns.Name);
        }
        _namespaces.Clear();
    }

    private static void TryDelete(string name)
    {
        try
        {
            Netns.Delete(name);
        }
        catch (Exception)
        {
            // Best effort at exit; test.sh reports anything left behind.
        }
        s_live.TryRemove(name, out _);
    }
}

public sealed record TestNamespace(string Name, Netns Netns, RtNetlink Rt);
