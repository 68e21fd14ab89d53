namespace Podnet.Front;

/// <summary>A command line the front answers itself; anything else is handed to the full CLI.</summary>
internal abstract record FrontCommand;

/// <summary>`--version` (System.CommandLine's: the bare version) or `version` ("podnet VERSION").</summary>
internal sealed record VersionRequest(bool Bare) : FrontCommand;

/// <summary>`get KIND [NAME] [-n NS] [-A] [-o FORMAT] [-l SELECTOR]`, without --watch.</summary>
internal sealed record GetArgs(string Kind, string? Name, string Namespace, bool AllNamespaces, string? Output, string? Selector, string? Kubeconfig, string? Lab) : FrontCommand;

/// <summary>`apply -f SOURCE [-n NS]`.</summary>
internal sealed record ApplyArgs(string File, string Namespace, string? Kubeconfig, string? Lab) : FrontCommand;

/// <summary>`exec [-n NS] POD [-c C] -- CMD…` or `exec --outside|--node N -- CMD…`.</summary>
internal sealed record ExecArgs(string? Pod, string Namespace, string? Container, bool Outside, string? Node, string? Kubeconfig, string? Lab, string[] Command) : FrontCommand;

/// <summary>`lab status [--name NAME] [-o FORMAT]`.</summary>
internal sealed record LabStatusArgs(string Name, string? Output) : FrontCommand;

/// <summary>
/// Parses the command lines the front answers, as narrowly as it can be sure of System.CommandLine's
/// reading of them in the full CLI: options as separate words or --long=value, each at most once.
/// Anything else (an unknown or bundled option, a response file, -h, --watch, a value that
/// System.CommandLine would refuse, a missing argument) returns null, and the full CLI, which
/// prints the right usage error, gets the command line unchanged.
/// </summary>
internal static class FrontArgs
{
    private static readonly string[] GetOutputs = ["wide", "yaml", "json", "name"];

    public static FrontCommand? Parse(string[] args)
    {
        switch (args)
        {
            case ["--version"]:
                return new VersionRequest(Bare: true);
            case ["version"]:
                return new VersionRequest(Bare: false);
            case ["get", .. var rest]:
                return Get(rest);
            case ["apply", .. var rest]:
                return Apply(rest);
            case ["exec", .. var rest]:
                return Exec(rest);
            case ["lab", "status", .. var rest]:
                return LabStatus(rest);
            default:
                return null;
        }
    }

    private static GetArgs? Get(IReadOnlyList<string> args)
    {
        if (Words(args, ["--namespace", "-n", "--output", "-o", "--selector", "-l", "--kubeconfig", "--lab"], ["--all-namespaces", "-A"]) is not var (values, positional, _)
            || positional.Count is 0 or > 2)
        {
            return null;
        }
        var output = Value(values, "--output", "-o");
        if (output is not null && !GetOutputs.Contains(output))
        {
            return null;
        }
        return new GetArgs(positional[0], positional.Count > 1 ? positional[1] : null, Value(values, "--namespace", "-n") ?? "default",
            values.ContainsKey("--all-namespaces") || values.ContainsKey("-A"), output, Value(values, "--selector", "-l"),
            Value(values, "--kubeconfig"), Value(values, "--lab"));
    }

    private static ApplyArgs? Apply(IReadOnlyList<string> args)
    {
        if (Words(args, ["--filename", "-f", "--namespace", "-n", "--kubeconfig", "--lab"], []) is not var (values, positional, _)
            || positional.Count > 0 || Value(values, "--filename", "-f") is not { } file)
        {
            return null;
        }
        return new ApplyArgs(file, Value(values, "--namespace", "-n") ?? "default", Value(values, "--kubeconfig"), Value(values, "--lab"));
    }

    private static ExecArgs? Exec(IReadOnlyList<string> args)
    {
        if (Words(args, ["--namespace", "-n", "--container", "-c", "--node", "--kubeconfig", "--lab"], ["--outside"], dashDash: true) is not var (values, positional, command)
            || command is not { Length: > 0 } || positional.Count > 1)
        {
            return null;
        }
        var outside = values.ContainsKey("--outside");
        var node = Value(values, "--node");
        var pod = positional.Count == 1 ? positional[0] : null;
        // With --outside or --node the full CLI reads a POD word as the command's first; without, a POD is needed.
        if ((outside || node is not null) ? pod is not null : pod is null)
        {
            return null;
        }
        return new ExecArgs(pod, Value(values, "--namespace", "-n") ?? "default", Value(values, "--container", "-c"), outside, node,
            Value(values, "--kubeconfig"), Value(values, "--lab"), command);
    }

    private static LabStatusArgs? LabStatus(IReadOnlyList<string> args)
    {
        if (Words(args, ["--name", "--output", "-o"], []) is not var (values, positional, _) || positional.Count > 0)
        {
            return null;
        }
        return new LabStatusArgs(Value(values, "--name") ?? Podnet.Lab.Topology.LabName.Default, Value(values, "--output", "-o"));
    }

    private static string? Value(Dictionary<string, string> values, params string[] names)
    {
        foreach (var name in names)
        {
            if (values.TryGetValue(name, out var value))
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>
    /// Splits <paramref name="args"/> into option values (by the name used), positional words
    /// and, with <paramref name="dashDash"/>, the words after "--"; null when a word is not
    /// certain to mean the same to System.CommandLine.
    /// </summary>
    private static (Dictionary<string, string> Values, List<string> Positional, string[]? Command)? Words(IReadOnlyList<string> args, string[] withValue, string[] flags, bool dashDash = false)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // An option given twice, also under its alias: System.CommandLine's answer is not the front's to guess.
        bool First(string name) => seen.Add(Canonical(name));
        for (var i = 0; i < args.Count; i++)
        {
            var word = args[i];
            if (word == "--")
            {
                if (!dashDash)
                {
                    return null;
                }
                return (values, positional, args.Skip(i + 1).ToArray());
            }
            if (word.StartsWith('@') || word.Length == 0)
            {
                return null;
            }
            if (word.StartsWith('-'))
            {
                var eq = word.StartsWith("--", StringComparison.Ordinal) ? word.IndexOf('=') : -1;
                var name = eq > 0 ? word[..eq] : word;
                if (withValue.Contains(name))
                {
                    var value = eq > 0 ? word[(eq + 1)..] : i + 1 < args.Count ? args[++i] : null;
                    if (value is null || value.Length == 0 || (value.StartsWith('-') && value != "-") || value.StartsWith('@') || !First(name))
                    {
                        return null;
                    }
                    values[name] = value;
                }
                else if (eq < 0 && flags.Contains(name))
                {
                    // A bool option takes a following true/false as its value.
                    if (!First(name) || (i + 1 < args.Count && args[i + 1] is "true" or "false" or "True" or "False"))
                    {
                        return null;
                    }
                    values[name] = "true";
                }
                else
                {
                    return null;
                }
                continue;
            }
            positional.Add(word);
        }
        return (values, positional, null);
    }

    /// <summary>One name for an option and its alias (-n and --namespace).</summary>
    private static string Canonical(string name) => name switch
    {
        "-n" => "--namespace",
        "-o" => "--output",
        "-l" => "--selector",
        "-f" => "--filename",
        "-c" => "--container",
        "-A" => "--all-namespaces",
        _ => name,
    };
}
