using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// The DefaultIngressClass admission plugin, on create: an Ingress that names no class (neither
/// spec.ingressClassName nor the old kubernetes.io/ingress.class annotation) gets the class
/// annotated ingressclass.kubernetes.io/is-default-class: "true". With several such classes,
/// the newest wins (the name breaks a tie), as upstream since it stopped refusing the Ingress.
/// </summary>
internal static class DefaultIngressClass
{
    public const string IsDefaultAnnotation = "ingressclass.kubernetes.io/is-default-class";
    public const string LegacyClassAnnotation = "kubernetes.io/ingress.class";

    public static void Admit(StoreTransaction txn, JsonObject ingress)
    {
        if (ingress["spec"]?["ingressClassName"] is not null || ingress["metadata"]?["annotations"]?[LegacyClassAnnotation] is not null)
        {
            return;
        }
        var chosen = txn.List(ResourceCatalog.IngressClasses.Key, null)
            .Select(c => c.Parse())
            .Where(c => (string?)c["metadata"]?["annotations"]?[IsDefaultAnnotation] == "true")
            .OrderByDescending(c => ObjectMeta.ParseTimestamp(c["metadata"]?["creationTimestamp"]) ?? DateTimeOffset.MinValue)
            .ThenBy(c => c.Name(), StringComparer.Ordinal)
            .FirstOrDefault();
        if (chosen is not null)
        {
            ingress.Child("spec")["ingressClassName"] = chosen.Name();
        }
    }
}
