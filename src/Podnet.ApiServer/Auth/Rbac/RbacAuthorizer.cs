using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>
/// kube-apiserver's authorizer chain as this server runs it (--authorization-mode=Node,RBAC):
/// system:masters is allowed everything (upstream's privileged-groups authorizer), then the
/// Node authorizer for nodes (Auth/Node/), then RBAC over the stored roles and bindings. With authorization off (<c>--authorization-mode AlwaysAllow</c>)
/// every authenticated request is allowed.
/// </summary>
/// <remarks>
/// The policy is rebuilt only after an RBAC object changed. The store publishes a write's events
/// to subscribers inside the write, before it is answered, so draining the four subscriptions
/// without waiting (TryRead) before each decision sees every change committed before this
/// request: a RoleBinding counts from the moment its create returns, with no informer delay
/// for tests to wait out. A subscription cut off for falling behind is simply renewed.
/// </remarks>
internal sealed class RbacAuthorizer : IDisposable
{
    private static readonly ResourceInfo[] Kinds = [ResourceCatalog.ClusterRoles, ResourceCatalog.Roles, ResourceCatalog.ClusterRoleBindings, ResourceCatalog.RoleBindings];

    private readonly ObjectStore _store;
    private readonly object _lock = new();
    private readonly WatchHub.Subscription?[] _subscriptions = new WatchHub.Subscription?[Kinds.Length];
    private RbacPolicy? _policy;

    private readonly Node.NodeAuthorizer _nodes;

    public RbacAuthorizer(ObjectStore store, bool enabled)
    {
        _store = store;
        _nodes = new Node.NodeAuthorizer(store);
        Enabled = enabled;
    }

    public bool Enabled { get; }

    public (bool Allowed, string Reason) Authorize(RequestAttributes a)
    {
        if (!Enabled || a.User.IsMaster)
        {
            return (true, "");
        }
        var (byNode, nodeReason) = _nodes.Authorize(a);
        if (byNode)
        {
            return (true, "");
        }
        var (allowed, reason) = Policy.Authorize(a);
        // As upstream's union authorizer: every authorizer's reason for having no opinion.
        return allowed || nodeReason.Length == 0 ? (allowed, reason) : (false, reason.Length == 0 ? nodeReason : $"{nodeReason}, {reason}");
    }

    /// <summary>The current policy (rebuilt first when an RBAC object changed).</summary>
    public RbacPolicy Policy
    {
        get
        {
            lock (_lock)
            {
                var changed = _policy is null;
                for (var i = 0; i < Kinds.Length; i++)
                {
                    var subscription = _subscriptions[i];
                    if (subscription is null)
                    {
                        _subscriptions[i] = _store.Subscribe(Kinds[i].Key, _store.ResourceVersion);
                        changed = true;
                        continue;
                    }
                    while (subscription.Reader.TryRead(out _))
                    {
                        changed = true;
                    }
                    if (subscription.Reader.Completion.IsCompleted)
                    {
                        subscription.Dispose();
                        _subscriptions[i] = _store.Subscribe(Kinds[i].Key, _store.ResourceVersion);
                        changed = true;
                    }
                }
                if (changed)
                {
                    _policy = new RbacPolicy(Objects(Kinds[0]), Objects(Kinds[1]), Objects(Kinds[2]), Objects(Kinds[3]));
                }
                return _policy!;
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in _subscriptions)
        {
            s?.Dispose();
        }
    }

    private IEnumerable<System.Text.Json.Nodes.JsonObject> Objects(ResourceInfo r) => _store.List(r.Key, null).Items.Select(o => o.Parse());
}
