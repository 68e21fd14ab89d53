using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Http;

/// <summary>
/// The RBAC kinds and the review kinds in protobuf, as kubectl's typed clients send them
/// (`kubectl create role/clusterrole/rolebinding/clusterrolebinding`, `kubectl auth can-i`,
/// `kubectl auth whoami`, `kubectl create token`); field numbers from k8s.io/api's
/// rbac/v1, authorization/v1 and authentication/v1 generated.proto.
/// </summary>
internal static partial class Protobuf
{
    /// <summary>Reads the object when it is one of these kinds; false for any other.</summary>
    private static bool TryDecodeAuth(string apiVersion, string kind, ReadOnlyMemory<byte> raw, JsonObject obj)
    {
        switch ((apiVersion, kind))
        {
            case ("rbac.authorization.k8s.io/v1", "Role"):
                Object(obj, raw, (f, v) => null, 2);
                Rules(obj, raw);
                return true;
            case ("rbac.authorization.k8s.io/v1", "ClusterRole"):
                Object(obj, raw, (f, v) => f == 3 ? ("aggregationRule", Message(v, "AggregationRule", (a, af, av) => af == 1 && Add(a, "clusterRoleSelectors", LabelSelector(av)))) : null, 2);
                Rules(obj, raw);
                return true;
            case ("rbac.authorization.k8s.io/v1", "RoleBinding" or "ClusterRoleBinding"):
                Object(obj, raw, (f, v) => f == 3 ? ("roleRef", Message(v, "RoleRef", (r, rf, rv) => rf switch
                {
                    1 => Set(r, "apiGroup", Str(rv)),
                    2 => Set(r, "kind", Str(rv)),
                    3 => Set(r, "name", Str(rv)),
                    _ => false,
                })) : null, 2);
                foreach (var (f, v) in Fields(raw).Where(p => p.Field == 2))
                {
                    Add(obj, "subjects", Message(v, "Subject", (s, sf, sv) => sf switch
                    {
                        1 => Set(s, "kind", Str(sv)),
                        2 => Set(s, "apiGroup", Str(sv)),
                        3 => Set(s, "name", Str(sv)),
                        4 => Set(s, "namespace", Str(sv)),
                        _ => false,
                    }));
                }
                return true;
            case ("authorization.k8s.io/v1", "SelfSubjectAccessReview" or "SubjectAccessReview" or "LocalSubjectAccessReview"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", AccessReviewSpec(v)) : null, 3);
                return true;
            case ("authorization.k8s.io/v1", "SelfSubjectRulesReview"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", Message(v, "SelfSubjectRulesReviewSpec", (s, sf, sv) => sf == 1 && Set(s, "namespace", Str(sv)))) : null, 3);
                return true;
            case ("authentication.k8s.io/v1", "SelfSubjectReview"):
                Object(obj, raw, (f, v) => null, 2);
                return true;
            case ("authentication.k8s.io/v1", "TokenReview"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", Message(v, "TokenReviewSpec", (s, sf, sv) => sf switch
                {
                    1 => Set(s, "token", Str(sv)),
                    2 => Add(s, "audiences", JsonValue.Create(Str(sv))),
                    _ => false,
                })) : null, 3);
                return true;
            case ("authentication.k8s.io/v1", "TokenRequest"):
                Object(obj, raw, (f, v) => f == 2 ? ("spec", Message(v, "TokenRequestSpec", (s, sf, sv) => sf switch
                {
                    1 => Add(s, "audiences", JsonValue.Create(Str(sv))),
                    3 => Set(s, "boundObjectRef", Message(sv, "BoundObjectReference", (b, bf, bv) => bf switch
                    {
                        1 => Set(b, "kind", Str(bv)),
                        2 => Set(b, "apiVersion", Str(bv)),
                        3 => Set(b, "name", Str(bv)),
                        4 => Set(b, "uid", Str(bv)),
                        _ => false,
                    })),
                    4 => Set(s, "expirationSeconds", Num(sv)),
                    _ => false,
                })) : null, 3);
                return true;
            default:
                return false;
        }
    }

    private static void Rules(JsonObject obj, ReadOnlyMemory<byte> raw)
    {
        foreach (var (f, v) in Fields(raw).Where(p => p.Field == 2))
        {
            Add(obj, "rules", Message(v, "PolicyRule", (r, rf, rv) => rf switch
            {
                1 => Add(r, "verbs", JsonValue.Create(Str(rv))),
                2 => Add(r, "apiGroups", JsonValue.Create(Str(rv))),
                3 => Add(r, "resources", JsonValue.Create(Str(rv))),
                4 => Add(r, "resourceNames", JsonValue.Create(Str(rv))),
                5 => Add(r, "nonResourceURLs", JsonValue.Create(Str(rv))),
                _ => false,
            }));
        }
    }

    private static JsonObject AccessReviewSpec(ReadOnlyMemory<byte> data) => Message(data, "SubjectAccessReviewSpec", (s, f, v) => f switch
    {
        1 => Set(s, "resourceAttributes", Message(v, "ResourceAttributes", (a, af, av) => af switch
        {
            1 => Set(a, "namespace", Str(av)),
            2 => Set(a, "verb", Str(av)),
            3 => Set(a, "group", Str(av)),
            4 => Set(a, "version", Str(av)),
            5 => Set(a, "resource", Str(av)),
            6 => Set(a, "subresource", Str(av)),
            7 => Set(a, "name", Str(av)),
            _ => false,
        })),
        2 => Set(s, "nonResourceAttributes", Message(v, "NonResourceAttributes", (a, af, av) => af switch
        {
            1 => Set(a, "path", Str(av)),
            2 => Set(a, "verb", Str(av)),
            _ => false,
        })),
        3 => Set(s, "user", Str(v)),
        4 => Add(s, "groups", JsonValue.Create(Str(v))),
        5 => Set(s, "extra", ExtraEntry(s["extra"] as JsonObject ?? [], v)),
        6 => Set(s, "uid", Str(v)),
        _ => false,
    });

    /// <summary>One entry of map&lt;string, ExtraValue&gt; {1 key, 2 value {1 items}} added to the map.</summary>
    private static JsonObject ExtraEntry(JsonObject map, ReadOnlyMemory<byte> entry)
    {
        var key = "";
        var values = new JsonArray();
        foreach (var (f, v) in Fields(entry))
        {
            if (f == 1)
            {
                key = Str(v);
            }
            else if (f == 2)
            {
                foreach (var item in Repeated(v, 1))
                {
                    values.Add((JsonNode)JsonValue.Create(item));
                }
            }
        }
        map[key] = values;
        return map;
    }
}
