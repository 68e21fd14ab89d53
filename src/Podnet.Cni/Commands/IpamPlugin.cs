using Podnet.Cni.Config;
using Podnet.Cni.Ipam;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Commands;

/// <summary>The binary invoked as podnet-ipam: a host-local-compatible IPAM plugin, with GC and STATUS.</summary>
internal sealed class IpamPlugin(CniEnvironment env, string stdin)
{
    public string? Run()
    {
        var dto = NetConfParser.Decode(stdin);
        var version = CniVersion.Require(dto.CniVersion);
        var config = IpamConfigParser.Parse(dto, env);
        var ipam = new PodnetIpam(config, env.ContainerId, env.IfName);
        switch (env.Command)
        {
            case "ADD":
                // An IPAM result is abbreviated (spec section 4): prevResult is not merged in, or
                // the main plugin that called us would put the chain's other addresses on its interface.
                var result = ipam.Add();
                result.CniVersion = version;
                return ResultConverter.Serialize(result, version);
            case "DEL":
                ipam.Del();
                return null;
            case "CHECK":
                Require(version, "0.4.0", "CHECK");
                ipam.Check(dto.PrevResult is { ValueKind: System.Text.Json.JsonValueKind.Object } previous
                    ? DelegatedIpam.AddressesOf(ResultConverter.Parse(previous).Ips ?? [])
                    : null);
                return null;
            case "GC":
                Require(version, "1.1.0", "GC");
                ipam.Gc(dto.ValidAttachments ?? dto.Attachments
                    ?? throw new CniException(CniErrorCode.InvalidConfig, "GC needs cni.dev/valid-attachments (or cni.dev/attachments) in the configuration"));
                return null;
            case "STATUS":
                Require(version, "1.1.0", "STATUS");
                ipam.Status();
                return null;
            default:
                throw new CniException(CniErrorCode.InvalidEnvironment, $"CNI_COMMAND={env.Command} is not handled");
        }
    }

    private static void Require(string version, string minimum, string verb)
    {
        if (!CniVersion.AtLeast(version, minimum))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"{verb} needs cniVersion {minimum} or later, the configuration says {version}");
        }
    }
}
