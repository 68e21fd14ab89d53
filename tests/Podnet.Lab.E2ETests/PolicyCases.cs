using k8s;

namespace Podnet.Lab.E2ETests;

/// <summary>One step of a case: what to change, then what every probe should find.</summary>
public sealed record PolicyStep(Func<PolicyModel, Task> Act, Func<string, string, ModelPort, bool> Expect);

public sealed record PolicyCase(string Name, params PolicyStep[] Steps);

/// <summary>
/// The policy cases probed over the upstream model, after upstream's netpol e2e tests and the
/// semantics the issue lists. Each starts from the model with no policies and its own labels.
/// Expectations are written as the rule they pin: "to x/a only from x/b", not as matrices.
/// </summary>
public static class PolicyCases
{
    private static string Ns(string key) => key[..1];

    private static string Pod(string key) => key[2..];

    private static bool Tcp(ModelPort p) => p.Protocol == "tcp";

    private static bool Any(string from, string to, ModelPort port) => true;

    /// <summary>A NetworkPolicy document; <paramref name="spec"/> is YAML indented by two spaces under spec.</summary>
    public static string Np(string ns, string name, string spec) =>
        $"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{string.Join('\n', spec.Split('\n').Select(l => "  " + l))}";

    private static PolicyStep Apply(string yaml, Func<string, string, ModelPort, bool> expect) => new(m => m.ApplyAsync(yaml), expect);

    private static PolicyCase One(string name, string yaml, Func<string, string, ModelPort, bool> expect) => new(name, Apply(yaml, expect));

    /// <summary>Only traffic to <paramref name="target"/> is restricted: to it only what <paramref name="admits"/> says.</summary>
    private static Func<string, string, ModelPort, bool> To(string target, Func<string, ModelPort, bool> admits) =>
        (from, to, port) => to != target || admits(from, port);

    private static Func<string, string, ModelPort, bool> From(string source, Func<string, ModelPort, bool> allows) =>
        (from, to, port) => from != source || allows(to, port);

    private const string TargetA = "podSelector: {matchLabels: {pod: a}}";

    public static readonly PolicyCase[] All =
    [
        new("no policies: everything reaches everything", new PolicyStep(_ => Task.CompletedTask, Any)),
        One("default deny ingress", Np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress]"), (_, to, _) => Ns(to) != "x"),
        One("default deny egress", Np("x", "deny", "podSelector: {}\npolicyTypes: [Egress]"), (from, _, _) => Ns(from) != "x"),
        One("default deny all", Np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]"), (from, to, _) => Ns(from) != "x" && Ns(to) != "x"),
        One("allow from pods within the namespace", Np("x", "same-ns", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]"), (from, to, _) => Ns(to) != "x" || Ns(from) == "x"),
        One("allow ingress to one target from one pod", Np("x", "a-from-b", $"{TargetA}\ningress: [{{from: [{{podSelector: {{matchLabels: {{pod: b}}}}}}]}}]"), To("x/a", (f, _) => f == "x/b")),
        One("allow from all namespaces", Np("x", "all-ns", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"), Any),
        One("only from another namespace", Np("x", "from-y", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]"), (from, to, _) => Ns(to) != "x" || Ns(from) == "y"),
        One("pod selector with matchExpressions", Np("x", "expr", $"{TargetA}\ningress: [{{from: [{{podSelector: {{matchExpressions: [{{key: pod, operator: In, values: [b, c]}}]}}}}]}}]"), To("x/a", (f, _) => f is "x/b" or "x/c")),
        One("namespace selector with matchExpressions NotIn", Np("x", "expr", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{matchExpressions: [{{key: ns, operator: NotIn, values: [x, y]}}]}}}}]}}]"), To("x/a", (f, _) => Ns(f) == "z")),
        One("pod selector OR namespace selector (two peers)", Np("x", "or", $"{TargetA}\ningress:\n- from:\n  - namespaceSelector: {{matchLabels: {{ns: y}}}}\n  - podSelector: {{matchLabels: {{pod: b}}}}"), To("x/a", (f, _) => Ns(f) == "y" || f == "x/b")),
        One("pod selector AND namespace selector (one peer)", Np("x", "and", $"{TargetA}\ningress:\n- from:\n  - namespaceSelector: {{matchLabels: {{ns: y}}}}\n    podSelector: {{matchLabels: {{pod: b}}}}"), To("x/a", (f, _) => f == "y/b")),
        One("multiple pod and namespace selectors", Np("x", "multi", $"{TargetA}\ningress:\n- from:\n  - namespaceSelector: {{matchExpressions: [{{key: ns, operator: In, values: [y, z]}}]}}\n    podSelector: {{matchExpressions: [{{key: pod, operator: Exists}}, {{key: pod, operator: NotIn, values: [a]}}]}}\n  - podSelector: {{matchLabels: {{pod: c}}}}"), To("x/a", (f, _) => (Ns(f) != "x" && Pod(f) != "a") || f == "x/c")),
        One("empty pod and namespace selectors: every pod", Np("x", "any", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{}}, podSelector: {{}}}}]}}]"), Any),
        One("namespace by kubernetes.io/metadata.name", Np("x", "by-name", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: z}}}}}}]}}]"), To("x/a", (f, _) => Ns(f) == "z")),
        One("numeric port", Np("x", "port", $"{TargetA}\ningress: [{{ports: [{{port: 81}}]}}]"), To("x/a", (_, p) => p == new ModelPort(81, "tcp"))),
        One("named port in ingress", Np("x", "named", $"{TargetA}\ningress: [{{ports: [{{port: serve-80-tcp}}]}}]"), To("x/a", (_, p) => p == new ModelPort(80, "tcp"))),
        One("named port from a namespace", Np("x", "named-ns", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{matchLabels: {{ns: y}}}}}}], ports: [{{port: serve-81-udp, protocol: UDP}}]}}]"), To("x/a", (f, p) => Ns(f) == "y" && p == new ModelPort(81, "udp"))),
        One("named port in egress", Np("x", "named-egress", $"{TargetA}\npolicyTypes: [Egress]\negress: [{{ports: [{{port: serve-80-udp, protocol: UDP}}]}}]"), From("x/a", (_, p) => p == new ModelPort(80, "udp"))),
        One("named port with the wrong protocol matches nothing", Np("x", "mismatch", $"{TargetA}\ningress: [{{ports: [{{port: serve-80-tcp, protocol: UDP}}]}}]"), To("x/a", (_, _) => false)),
        One("endPort range", Np("x", "range", $"{TargetA}\ningress: [{{ports: [{{port: 79, endPort: 81, protocol: UDP}}]}}]"), To("x/a", (_, p) => p.Protocol == "udp")),
        One("a protocol without a port", Np("x", "tcp-any", $"{TargetA}\ningress: [{{ports: [{{protocol: TCP}}]}}]"), To("x/a", (_, p) => Tcp(p))),
        One("UDP rule does not allow TCP", Np("x", "udp-80", $"{TargetA}\ningress: [{{ports: [{{port: 80, protocol: UDP}}]}}]"), To("x/a", (_, p) => p == new ModelPort(80, "udp"))),
        One("SCTP-only rule still isolates TCP and UDP", Np("x", "sctp", $"{TargetA}\ningress: [{{ports: [{{port: 80, protocol: SCTP}}]}}]"), To("x/a", (_, _) => false)),
        One("stacked policies are a union", Np("x", "from-b", $"{TargetA}\ningress: [{{from: [{{podSelector: {{matchLabels: {{pod: b}}}}}}]}}]") + "\n---\n" + Np("x", "from-y", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{matchLabels: {{ns: y}}}}}}], ports: [{{port: 81}}]}}]"),
            To("x/a", (f, p) => f == "x/b" || (Ns(f) == "y" && p == new ModelPort(81, "tcp")))),
        One("allow-all ingress wins over default deny", Np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress]") + "\n---\n" + Np("x", "allow-a", $"{TargetA}\ningress: [{{}}]"), (_, to, _) => Ns(to) != "x" || to == "x/a"),
        One("allow-all egress wins over default deny", Np("x", "deny", "podSelector: {}\npolicyTypes: [Egress]") + "\n---\n" + Np("x", "allow-a", $"{TargetA}\npolicyTypes: [Egress]\negress: [{{}}]"), (from, _, _) => Ns(from) != "x" || from == "x/a"),
        One("policyTypes default: an egress section alone also denies all ingress", Np("x", "trap", $"{TargetA}\negress: [{{to: [{{podSelector: {{matchLabels: {{pod: b}}}}}}]}}]"), (from, to, _) => to != "x/a" && (from != "x/a" || to == "x/b")),
        One("policyTypes default: an empty egress list does not isolate egress", Np("x", "trap", $"{TargetA}\negress: []"), (_, to, _) => to != "x/a"),
        One("egress-only policy leaves ingress open", Np("x", "egress-y", $"{TargetA}\npolicyTypes: [Egress]\negress: [{{to: [{{namespaceSelector: {{matchLabels: {{ns: y}}}}}}]}}]"), From("x/a", (t, _) => Ns(t) == "y")),
        One("ingress and egress together", Np("x", "both", $"{TargetA}\npolicyTypes: [Ingress, Egress]\ningress: [{{from: [{{podSelector: {{matchLabels: {{pod: b}}}}}}]}}]\negress: [{{to: [{{podSelector: {{matchLabels: {{pod: c}}}}}}]}}]"),
            (from, to, _) => (to != "x/a" || from == "x/b") && (from != "x/a" || to == "x/c")),
        One("the sender's egress denial wins over an open receiver", Np("x", "to-z", $"{TargetA}\npolicyTypes: [Egress]\negress: [{{to: [{{namespaceSelector: {{matchLabels: {{ns: z}}}}}}]}}]") + "\n---\n" + Np("y", "open", "podSelector: {}\ningress: [{}]"),
            From("x/a", (t, _) => Ns(t) == "z")),
        One("the receiver's ingress denial wins over an open sender", Np("y", "from-z", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]") + "\n---\n" + Np("x", "open", "podSelector: {}\npolicyTypes: [Egress]\negress: [{}]"),
            (from, to, _) => Ns(to) != "y" || Ns(from) == "z"),
        new("ipBlock with except (egress to pod addresses)", new PolicyStep(async m =>
        {
            await m.ApplyAsync(Np("x", "cidr", $"{TargetA}\npolicyTypes: [Egress]\negress: [{{to: [{{ipBlock: {{cidr: 10.244.0.0/16, except: [{m.Address("y/b")}/32]}}}}]}}]"));
        }, From("x/a", (t, _) => t != "y/b"))),
        new("ipBlock with except (ingress from a node's pod CIDR)", new PolicyStep(async m =>
        {
            var n2 = (await m.Client.CoreV1.ReadNodeAsync("n2")).Spec.PodCIDR;
            await m.ApplyAsync(Np("x", "cidr", $"{TargetA}\ningress: [{{from: [{{ipBlock: {{cidr: 10.244.0.0/16, except: [{n2}]}}}}]}}]"));
        }, To("x/a", (f, _) => !new[] { "x/b", "y/b", "z/b" }.Contains(f)))),
        new("pod label changes after the policy", 
            Apply(Np("x", "clients", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{}}, podSelector: {{matchLabels: {{role: client}}}}}}]}}]"), To("x/a", (_, _) => false)),
            new PolicyStep(m => m.SetPodLabelsAsync("y/c", new() { ["pod"] = "c", ["role"] = "client" }), To("x/a", (f, _) => f == "y/c")),
            new PolicyStep(m => m.SetPodLabelsAsync("y/c", new() { ["pod"] = "c" }), To("x/a", (_, _) => false))),
        new("namespace label changes after the policy",
            Apply(Np("x", "blue", $"{TargetA}\ningress: [{{from: [{{namespaceSelector: {{matchLabels: {{team: blue}}}}}}]}}]"), To("x/a", (_, _) => false)),
            new PolicyStep(m => m.SetNamespaceLabelsAsync("z", new() { ["ns"] = "z", ["team"] = "blue" }), To("x/a", (f, _) => Ns(f) == "z"))),
        new("a changed policy takes effect, deleting policies restores everything",
            Apply(Np("x", "deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]") + "\n---\n" + Np("y", "deny", "podSelector: {}\npolicyTypes: [Ingress]"), (from, to, _) => Ns(from) != "x" && Ns(to) is not ("x" or "y")),
            Apply(Np("x", "deny", "podSelector: {matchLabels: {pod: c}}\npolicyTypes: [Ingress, Egress]"), (from, to, _) => from != "x/c" && to != "x/c" && Ns(to) != "y"),
            new PolicyStep(async m =>
            {
                await m.DeleteAsync("x", "deny");
                await m.DeleteAsync("y", "deny");
            }, Any)),
    ];
}
