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

    /// <summary>The clock of the conditions this chain writes (a CRD's status).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public void Admit(StoreTransaction txn, ResourceInfo r, JsonObject obj, JsonObject? old)
    {
        if (r.Custom is { } custom)
        {
            AdmitCustom(r, custom, obj, old);
            return;
        }
        if (r == ResourceCatalog.CustomResourceDefinitions)
        {
            CrdValidation.Default(obj);
            if (old is null && !obj.Finalizers().Contains(ResourceService.CrdCleanupFinalizer))
            {
                obj.SetFinalizers([.. obj.Finalizers(), ResourceService.CrdCleanupFinalizer]);
            }
        }
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
        if (r == ResourceCatalog.CustomResourceDefinitions)
        {
            CrdValidation.Validate(obj, old, causes);
            if (causes.Count == 0)
            {
                CrdValidation.SetStatus(txn, obj, old, Clock.GetUtcNow());
            }
        }
        if (causes.Count > 0)
        {
            throw ApiException.Invalid(r, obj.Name(), causes);
        }
        Auth?.Invoke(txn, r, obj, old);
    }

    /// <summary>
    /// A custom resource's object, as apiextensions-apiserver admits it: unknown fields pruned
    /// (field validation has reported them already), defaults of the request's version, its
    /// metadata and the structural schema checked, then stored as the storage version (strategy
    /// None: only apiVersion changes).
    /// </summary>
    private void AdmitCustom(ResourceInfo r, CustomResource custom, JsonObject obj, JsonObject? old)
    {
        var schema = custom.Schemas[r.Version];
        UnknownFields.Prune(custom.ShapeOf(r.Version), obj, patch: false);
        schema.ApplyDefaults(obj);
        var causes = new List<FieldCause>();
        MetadataValidation.Validate(r, obj, old, causes);
        schema.Validate(obj, "", causes);
        if (causes.Count > 0)
        {
            throw ApiException.Invalid(r, obj.Name(), causes);
        }
        obj["apiVersion"] = $"{custom.Group}/{custom.StorageVersion}";
    }
}
