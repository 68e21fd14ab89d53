using System.CommandLine;
using System.Text.Json.Nodes;
using Podnet.Cli.Objects;

namespace Podnet.Cli.Commands;

/// <summary>`podnet apply`, `podnet delete` and `podnet scale`, printing kubectl's lines.</summary>
internal static class ObjectCommands
{
    public static Command Apply()
    {
        var file = new Option<string>("--filename", "-f") { Description = "A file, a directory, or - for stdin.", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "Namespace for objects that name none.", DefaultValueFactory = _ => "default" };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("apply", "Create or update objects from manifests, merging three ways as kubectl apply does.") { file, ns, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            return await ApplyRun.RunAsync(() => new ApiClient(context.Kubeconfig), parse.GetValue(file)!, parse.GetValue(ns)!, token);
        });
        return command;
    }

    public static Command Delete()
    {
        var targets = new Argument<string[]>("TARGET") { Description = "KIND NAME… (or KIND --all).", Arity = ArgumentArity.ZeroOrMore };
        var file = new Option<string>("--filename", "-f") { Description = "Delete the objects of a file, a directory, or - for stdin." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace.", DefaultValueFactory = _ => "default" };
        var all = new Option<bool>("--all") { Description = "Every object of the kind in the namespace." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the objects are gone (default true).", DefaultValueFactory = _ => true };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("delete", "Delete objects and, by default, wait until they are gone.") { targets, file, ns, all, wait, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            using var api = new ApiClient(context.Kubeconfig);
            var objects = new List<(ResourceType Resource, string? Namespace, string Name)>();
            if (parse.GetValue(file) is { } source)
            {
                if (!Manifests.TryRead(source, out var manifests))
                {
                    return 1;
                }
                foreach (var obj in manifests)
                {
                    if (ResourceMap.Find((string)obj["kind"]!) is { } r)
                    {
                        objects.Add((r, r.Namespaced ? (string?)obj["metadata"]!["namespace"] ?? parse.GetValue(ns) : null, (string)obj["metadata"]!["name"]!));
                    }
                }
            }
            else
            {
                var words = parse.GetValue(targets) ?? [];
                if (words.Length == 0 || ResourceMap.Find(words[0].Split('/')[0]) is not { } resource)
                {
                    Console.Error.WriteLine(words.Length == 0 ? "error: give KIND NAME…, KIND --all or -f FILE" : $"error: the server doesn't have a resource type \"{words[0]}\"");
                    return 1;
                }
                var namespaceName = resource.Namespaced ? parse.GetValue(ns) : null;
                var names = words[0].Contains('/') ? [words[0].Split('/')[1]] : words.Skip(1).ToList();
                if (parse.GetValue(all))
                {
                    var (_, list) = await api.GetAsync(resource.Path(namespaceName), token: token);
                    names = list?["items"]?.AsArray().Select(i => (string)i!["metadata"]!["name"]!).ToList() ?? [];
                }
                objects.AddRange(names.Select(n => (resource, namespaceName, n)));
            }
            var failed = false;
            var deleted = new List<string>();
            foreach (var (resource, namespaceName, name) in objects)
            {
                var path = $"{resource.Path(namespaceName)}/{Uri.EscapeDataString(name)}";
                var (code, answer) = await api.SendAsync(HttpMethod.Delete, path, null, token: token);
                if (code == 404)
                {
                    Console.Error.WriteLine($"Error from server (NotFound): {resource.Resource} \"{name}\" not found");
                    failed = true;
                    continue;
                }
                if (code >= 400)
                {
                    Console.Error.WriteLine($"Error from server ({answer?["reason"]}): {answer?["message"]}");
                    failed = true;
                    continue;
                }
                Console.WriteLine($"{resource.Singular} \"{name}\" deleted");
                deleted.Add(path);
            }
            if (parse.GetValue(wait))
            {
                foreach (var path in deleted)
                {
                    while ((await api.GetAsync(path, token: token)).Status != 404)
                    {
                        await Task.Delay(200, token);
                    }
                }
            }
            return failed ? 1 : 0;
        });
        return command;
    }

    public static Command Scale()
    {
        var target = new Argument<string>("KIND/NAME") { Description = "deployment/web, rs/web-abc, sts/db…" };
        var replicas = new Option<int>("--replicas") { Description = "The number of replicas.", Required = true };
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace.", DefaultValueFactory = _ => "default" };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("scale", "Set a Deployment's, ReplicaSet's or StatefulSet's replicas.") { target, replicas, ns, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            var parts = parse.GetValue(target)!.Split('/');
            if (parts.Length != 2 || ResourceMap.Find(parts[0]) is not { } resource || resource.Resource is not ("deployments" or "replicasets" or "statefulsets"))
            {
                Console.Error.WriteLine($"error: '{parse.GetValue(target)}' is not deployment/NAME, replicaset/NAME or statefulset/NAME");
                return 1;
            }
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            using var api = new ApiClient(context.Kubeconfig);
            var patch = new JsonObject { ["spec"] = new JsonObject { ["replicas"] = parse.GetValue(replicas) } };
            var (code, answer) = await api.SendAsync(HttpMethod.Patch, $"{resource.Path(parse.GetValue(ns))}/{Uri.EscapeDataString(parts[1])}/scale", patch, "application/merge-patch+json", token);
            if (code == 404)
            {
                Console.Error.WriteLine($"Error from server (NotFound): {resource.Resource} \"{parts[1]}\" not found");
                return 1;
            }
            if (code >= 400)
            {
                Console.Error.WriteLine($"Error from server ({answer?["reason"]}): {answer?["message"]}");
                return 1;
            }
            Console.WriteLine($"{resource.Singular}/{parts[1]} scaled");
            return 0;
        });
        return command;
    }
}
