using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Http;

/// <summary>
/// The Deployment that `kubectl create deployment` sends: spec, selector, pod template,
/// containers with ports, env and command. k8s.io/api's encoder writes every non-pointer
/// field, empty or not, so empty strings, zeros and empty messages are read as "not set";
/// a field outside this subset that carries a value is refused (415) rather than dropped.
/// </summary>
internal static partial class Protobuf
{
    private static JsonObject DeploymentSpec(ReadOnlyMemory<byte> data) => Message(data, "DeploymentSpec", (spec, f, v) => f switch
    {
        1 => Set(spec, "replicas", Num(v)),
        2 => Set(spec, "selector", LabelSelector(v)),
        3 => Set(spec, "template", Message(v, "PodTemplateSpec", (t, tf, tv) => tf switch
        {
            1 => Set(t, "metadata", Metadata(tv)),
            2 => Set(t, "spec", PodSpec(tv)),
            _ => false,
        })),
        4 => Set(spec, "strategy", Message(v, "DeploymentStrategy", (s, sf, sv) => sf == 1 && Set(s, "type", Str(sv)))),
        5 => NonZero(spec, "minReadySeconds", Num(v)),
        6 => Set(spec, "revisionHistoryLimit", Num(v)),
        7 => Set(spec, "paused", Bool(v)),
        9 => Set(spec, "progressDeadlineSeconds", Num(v)),
        _ => false,
    });

    /// <summary>policy/v1 PodDisruptionBudgetSpec: {1 minAvailable, 2 selector, 3 maxUnavailable, 4 unhealthyPodEvictionPolicy}.</summary>
    private static JsonObject DisruptionBudgetSpec(ReadOnlyMemory<byte> data) => Message(data, "PodDisruptionBudgetSpec", (spec, f, v) => f switch
    {
        1 => Set(spec, "minAvailable", IntOrString(v)),
        2 => Set(spec, "selector", LabelSelector(v)),
        3 => Set(spec, "maxUnavailable", IntOrString(v)),
        4 => Set(spec, "unhealthyPodEvictionPolicy", Str(v)),
        _ => false,
    });

    /// <summary>meta/v1 DeleteOptions, as an Eviction carries it.</summary>
    private static JsonObject DeleteOptions(ReadOnlyMemory<byte> data) => Message(data, "DeleteOptions", (options, f, v) => f switch
    {
        1 => Set(options, "gracePeriodSeconds", Num(v)),
        2 => Set(options, "preconditions", Message(v, "Preconditions", (p, pf, pv) => pf switch
        {
            1 => Set(p, "uid", Str(pv)),
            2 => Set(p, "resourceVersion", Str(pv)),
            _ => false,
        })),
        3 => Set(options, "orphanDependents", Bool(v)),
        4 => Set(options, "propagationPolicy", Str(v)),
        5 => Add(options, "dryRun", JsonValue.Create(Str(v))),
        _ => false,
    });

    private static JsonObject ServiceSpec(ReadOnlyMemory<byte> data)
    {
        var spec = Message(data, "ServiceSpec", (s, f, v) => f switch
        {
            1 => Add(s, "ports", Message(v, "ServicePort", (p, pf, pv) => pf switch
            {
                1 => Set(p, "name", Str(pv)),
                2 => Set(p, "protocol", Str(pv)),
                3 => Set(p, "port", Num(pv)),
                4 => Set(p, "targetPort", IntOrString(pv)),
                5 => NonZero(p, "nodePort", Num(pv)),
                _ => false,
            })),
            2 => true,
            3 => Set(s, "clusterIP", Str(v)),
            4 => Set(s, "type", Str(v)),
            5 => Add(s, "externalIPs", JsonValue.Create(Str(v))),
            7 => Set(s, "sessionAffinity", Str(v)),
            8 => Set(s, "loadBalancerIP", Str(v)),
            10 => Set(s, "externalName", Str(v)),
            11 => Set(s, "externalTrafficPolicy", Str(v)),
            12 => NonZero(s, "healthCheckNodePort", Num(v)),
            13 => Set(s, "publishNotReadyAddresses", Bool(v)),
            _ => false,
        });
        var selector = Map(data, 2, binary: false);
        if (selector.Count > 0)
        {
            spec["selector"] = selector;
        }
        return spec;
    }

    /// <summary>intstr.IntOrString: {1 type (0 int, 1 string), 2 intVal, 3 strVal}.</summary>
    private static JsonNode? IntOrString(ReadOnlyMemory<byte> data)
    {
        long type = 0, number = 0;
        var text = "";
        foreach (var (f, v) in Fields(data))
        {
            (type, number, text) = f switch { 1 => (Num(v), number, text), 2 => (type, Num(v), text), 3 => (type, number, Str(v)), _ => (type, number, text) };
        }
        return type == 1 ? JsonValue.Create(text) : JsonValue.Create(number);
    }

    private static JsonObject LabelSelector(ReadOnlyMemory<byte> data)
    {
        var selector = Message(data, "LabelSelector", (s, f, v) => f switch
        {
            1 => true,
            2 => Add(s, "matchExpressions", Message(v, "LabelSelectorRequirement", (r, rf, rv) => rf switch
            {
                1 => Set(r, "key", Str(rv)),
                2 => Set(r, "operator", Str(rv)),
                3 => Add(r, "values", JsonValue.Create(Str(rv))),
                _ => false,
            })),
            _ => false,
        });
        var labels = Map(data, 1, binary: false);
        if (labels.Count > 0)
        {
            selector["matchLabels"] = labels;
        }
        return selector;
    }

    private static JsonObject PodSpec(ReadOnlyMemory<byte> data)
    {
        var spec = Message(data, "PodSpec", (s, f, v) => f switch
        {
            2 => Add(s, "containers", Container(v)),
            3 => Set(s, "restartPolicy", Str(v)),
            4 => Set(s, "terminationGracePeriodSeconds", Num(v)),
            6 => Set(s, "dnsPolicy", Str(v)),
            7 => true,
            8 => Set(s, "serviceAccountName", Str(v)),
            10 => Set(s, "nodeName", Str(v)),
            16 => Set(s, "hostname", Str(v)),
            17 => Set(s, "subdomain", Str(v)),
            19 => Set(s, "schedulerName", Str(v)),
            20 => Add(s, "initContainers", Container(v)),
            _ => false,
        });
        var nodeSelector = Map(data, 7, binary: false);
        if (nodeSelector.Count > 0)
        {
            spec["nodeSelector"] = nodeSelector;
        }
        return spec;
    }

    private static JsonObject Container(ReadOnlyMemory<byte> data) => Message(data, "Container", (c, f, v) => f switch
    {
        1 => Set(c, "name", Str(v)),
        2 => Set(c, "image", Str(v)),
        3 => Add(c, "command", JsonValue.Create(Str(v))),
        4 => Add(c, "args", JsonValue.Create(Str(v))),
        5 => Set(c, "workingDir", Str(v)),
        6 => Add(c, "ports", Message(v, "ContainerPort", (p, pf, pv) => pf switch
        {
            1 => Set(p, "name", Str(pv)),
            2 => NonZero(p, "hostPort", Num(pv)),
            3 => Set(p, "containerPort", Num(pv)),
            4 => Set(p, "protocol", Str(pv)),
            5 => Set(p, "hostIP", Str(pv)),
            _ => false,
        })),
        7 => Add(c, "env", Message(v, "EnvVar", (e, ef, ev) => ef switch
        {
            1 => Set(e, "name", Str(ev)),
            2 => Set(e, "value", Str(ev)),
            _ => false,
        })),
        8 => Set(c, "resources", Message(v, "ResourceRequirements", (_, _, _) => false)),
        13 => Set(c, "terminationMessagePath", Str(v)),
        14 => Set(c, "imagePullPolicy", Str(v)),
        20 => Set(c, "terminationMessagePolicy", Str(v)),
        _ => false,
    });

    /// <summary>
    /// Reads one message: <paramref name="read"/> takes each field it knows (true); a field it
    /// does not know is fine only when it carries nothing.
    /// </summary>
    private static JsonObject Message(ReadOnlyMemory<byte> data, string type, Func<JsonObject, int, ReadOnlyMemory<byte>, bool> read)
    {
        var result = new JsonObject();
        foreach (var (field, value) in Fields(data))
        {
            if (!read(result, field, value) && !IsEmpty(value))
            {
                throw new ApiException(415, "UnsupportedMediaType", $"protobuf field {field} of {type} is not read by this server: send application/json");
            }
        }
        return result;
    }

    private static bool IsEmpty(ReadOnlyMemory<byte> value) => value.Length == 0 || (value.Length == 8 && Num(value) == 0);

    /// <summary>Sets a field unless the value is an empty string; true either way (the field was understood).</summary>
    private static bool Set(JsonObject target, string name, JsonNode? value)
    {
        if (value is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String || ((string?)v)!.Length > 0)
        {
            if (!(value is JsonValue b && b.GetValueKind() == System.Text.Json.JsonValueKind.False))
            {
                target[name] = value;
            }
        }
        return true;
    }

    /// <summary>For plain (non-pointer) numbers, where 0 is what the encoder writes for "not set".</summary>
    private static bool NonZero(JsonObject target, string name, long value)
    {
        if (value != 0)
        {
            target[name] = value;
        }
        return true;
    }

    private static bool Add(JsonObject target, string name, JsonNode value)
    {
        var list = target[name] as JsonArray ?? [];
        list.Add(value);
        target[name] = list;
        return true;
    }
}
