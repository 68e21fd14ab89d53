using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;
using Podnet.ApiServer.Validation;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// What happens to an object between decoding and storage, as kube-apiserver's defaulting,
/// validation and admission: defaults filled in, every field problem collected into one 422,
/// then Service addresses and ports allocated inside the same write.
/// </summary>
internal sealed class AdmissionChain(ServiceAllocator allocator)
{
    /// <summary>The admission of Auth/: RBAC's escalation check on roles and bindings, the ServiceAccount admission on pods.</summary>
    public Action<StoreTransaction, ResourceInfo, JsonObject, JsonObject?>? Auth { get; set; }

    public void Admit(StoreTransaction txn, ResourceInfo r, JsonObject obj, JsonObject? old)
    {
        Defaults.Apply(r, obj, old);
        if (r == ResourceCatalog.Ingresses && old is null)
        {
            DefaultIngressClass.Admit(txn, obj);
        }
        var causes = new List<FieldCause>();
        MetadataValidation.Validate(r, obj, old, causes);
        KindValidation.Validate(r, obj, old, causes);
        if (causes.Count == 0 && r == ResourceCatalog.Services)
        {
            allocator.Allocate(txn, obj, old, causes);
        }
        if (causes.Count > 0)
        {
            throw ApiException.Invalid(r, obj.Name(), causes);
        }
        Auth?.Invoke(txn, r, obj, old);
    }
}
