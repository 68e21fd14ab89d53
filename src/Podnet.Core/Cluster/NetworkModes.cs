namespace Podnet.Core.Cluster;

/// <summary>How nodes carry pod traffic to each other: plain routes via each node, or a VXLAN overlay.</summary>
public enum RoutingMode
{
    HostGw,
    Vxlan,
}

/// <summary>The three cluster network architectures: how pods and the broader network see each other.</summary>
public enum Architecture
{
    /// <summary>Pods reach outside through their node's address (masquerade); outside cannot reach pods.</summary>
    Island,

    /// <summary>Pod addresses are routable in the broader network: no masquerade either way.</summary>
    Flat,

    /// <summary>Pods neither reach nor are reached by the outside; only Services (NodePort, LoadBalancer) carry outside traffic.</summary>
    Isolated,
}
