using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Http;

/// <summary>One field problem in a 422 Invalid answer, as kube-apiserver's StatusCause.</summary>
internal sealed record FieldCause(string Reason, string Field, string Message)
{
    public static FieldCause Invalid(string field, object? value, string detail) =>
        new("FieldValueInvalid", field, $"Invalid value: {Quote(value)}: {detail}");

    public static FieldCause Required(string field, string detail = "") =>
        new("FieldValueRequired", field, detail.Length == 0 ? "Required value" : $"Required value: {detail}");

    public static FieldCause NotSupported(string field, object? value, IEnumerable<string> supported) =>
        new("FieldValueNotSupported", field, $"Unsupported value: {Quote(value)}: supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}");

    public static FieldCause Duplicate(string field, object? value) =>
        new("FieldValueDuplicate", field, $"Duplicate value: {Quote(value)}");

    public static FieldCause Forbidden(string field, string detail) => new("FieldValueForbidden", field, $"Forbidden: {detail}");

    private static string Quote(object? value) => value switch
    {
        string s => $"\"{s}\"",
        null => "null",
        JsonNode n => n.ToJsonString(),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>
/// An error answered as a metav1.Status, with kube-apiserver's reasons and messages so that
/// clients (kubectl, KubernetesClient, the informer) react to it as they would upstream.
/// </summary>
internal sealed class ApiException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus() => Status(Code, Reason, Message, Details?.DeepClone().AsObject());

    public static JsonObject Status(int code, string reason, string message, JsonObject? details)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details;
        }
        status["code"] = code;
        return status;
    }

    private static JsonObject NameDetails(ResourceInfo r, string name)
    {
        var details = new JsonObject { ["name"] = name };
        if (r.Group.Length > 0)
        {
            details["group"] = r.Group;
        }
        details["kind"] = r.Plural;
        return details;
    }

    public static ApiException NotFound(ResourceInfo r, string name) =>
        new(404, "NotFound", $"{r.QualifiedPlural} \"{name}\" not found", NameDetails(r, name));

    public static ApiException AlreadyExists(ResourceInfo r, string name) =>
        new(409, "AlreadyExists", $"{r.QualifiedPlural} \"{name}\" already exists", NameDetails(r, name));

    public static ApiException Conflict(ResourceInfo r, string name, string why = "the object has been modified; please apply your changes to the latest version and try again") =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {r.QualifiedPlural} \"{name}\": {why}", NameDetails(r, name));

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static ApiException Expired(string message) => new(410, "Expired", message);

    public static ApiException Gone(string message) => new(410, "Gone", message);

    /// <summary>Bad query options (fieldManager, force), as upstream: "PatchOptions.meta.k8s.io \"\" is invalid: …".</summary>
    public static ApiException InvalidOptions(string kind, IReadOnlyList<FieldCause> causes) =>
        Invalid($"{kind}.meta.k8s.io", "", new JsonObject { ["name"] = "", ["group"] = "meta.k8s.io", ["kind"] = kind }, causes);

    public static ApiException Invalid(ResourceInfo r, string name, IReadOnlyList<FieldCause> causes)
    {
        var details = new JsonObject { ["name"] = name };
        if (r.Group.Length > 0)
        {
            details["group"] = r.Group;
        }
        details["kind"] = r.Kind;
        return Invalid(r.Kind, name, details, causes);
    }

    /// <summary>Bad pods/log query options, as upstream: "PodLogOptions \"web\" is invalid: …".</summary>
    public static ApiException InvalidPodLogOptions(string pod, IReadOnlyList<FieldCause> causes) =>
        Invalid("PodLogOptions", pod, new JsonObject { ["name"] = pod, ["kind"] = "PodLogOptions" }, causes);

    private static ApiException Invalid(string what, string name, JsonObject details, IReadOnlyList<FieldCause> causes)
    {
        var parts = causes.Select(c => $"{c.Field}: {c.Message}").ToList();
        var summary = parts.Count == 1 ? parts[0] : $"[{string.Join(", ", parts)}]";
        details["causes"] = new JsonArray(causes.Select(c => (JsonNode)new JsonObject
        {
            ["reason"] = c.Reason,
            ["message"] = c.Message,
            ["field"] = c.Field,
        }).ToArray());
        return new ApiException(422, "Invalid", $"{what} \"{name}\" is invalid: {summary}", details);
    }
}
