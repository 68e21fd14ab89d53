using k8s.Models;

namespace Podnet.Controllers.Common;

/// <summary>Controller owner references: who made an object and who may change it.</summary>
public static class Owners
{
    public static V1OwnerReference ControllerRef(string apiVersion, string kind, V1ObjectMeta owner) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = owner.Name,
        Uid = owner.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    public static bool IsControlledBy(V1ObjectMeta? meta, V1ObjectMeta owner) =>
        meta?.OwnerReferences?.Any(o => o.Controller == true && o.Uid == owner.Uid) == true
        && meta.NamespaceProperty == owner.NamespaceProperty;
}
