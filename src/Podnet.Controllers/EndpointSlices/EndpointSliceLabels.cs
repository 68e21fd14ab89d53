namespace Podnet.Controllers.EndpointSlices;

/// <summary>The well-known labels and values that mark who owns an EndpointSlice.</summary>
public static class EndpointSliceLabels
{
    // Labels every managed slice carries.
    public const string ServiceName = "kubernetes.io/service-name";
    public const string ManagedBy = "endpointslice.kubernetes.io/managed-by";
    public const string Headless = "service.kubernetes.io/headless";

    // The two controllers' names, as upstream's; a slice with another manager is left alone.
    public const string ControllerName = "endpointslice-controller.k8s.io";
    public const string MirroringControllerName = "endpointslicemirroring-controller.k8s.io";

    // An Endpoints object with this label set to "true" is not mirrored.
    public const string SkipMirror = "endpointslice.kubernetes.io/skip-mirror";

    public const int DefaultMaxEndpointsPerSlice = 100;
}
