using Podnet.Cni.Spec;

namespace Podnet.Cni.Ipam;

/// <summary>The IPAM side of one invocation: in-process (podnet-ipam) or a delegated plugin.</summary>
internal interface IIpam
{
    /// <summary>Allocates; the result has ips (without interface), routes and dns.</summary>
    CniResult Add();

    /// <summary>Releases; succeeds when nothing is held. Returns the released addresses when known.</summary>
    IReadOnlyList<System.Net.IPAddress> Del();

    /// <summary>
    /// Checks the reservation; with <paramref name="expected"/> (the addresses prevResult gives
    /// this attachment) also that exactly those of our ranges are reserved for it.
    /// </summary>
    void Check(IReadOnlyList<System.Net.IPAddress>? expected);

    /// <summary>Releases what is not in <paramref name="valid"/>; returns the released addresses when known.</summary>
    IReadOnlyList<System.Net.IPAddress> Gc(IReadOnlyList<CniAttachment> valid);

    void Status();
}
