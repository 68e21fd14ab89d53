using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.Cli.Objects;

namespace Podnet.Cli.Commands;

/// <summary>
/// `podnet get KIND [NAME] [-n NS | -A] [-o wide|yaml|json|name] [-l SELECTOR]`: tables from the
/// server's Table responses, JSON and YAML as kubectl prints them, kubectl's messages.
/// </summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var kind = new Argument<string>("KIND") { Description = "pods, services, nodes, deployments, endpointslices… (or a short name: po, svc, deploy)." };
        var name = new Argument<string?>("NAME") { Description = "One object's name.", Arity = ArgumentArity.ZeroOrOne };
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace.", DefaultValueFactory = _ => "default" };
        var all = new Option<bool>("--all-namespaces", "-A") { Description = "Every namespace." };
        var output = new Option<string>("--output", "-o") { Description = "wide, yaml, json or name." };
        output.AcceptOnlyFromAmong("wide", "yaml", "json", "name");
        var selector = new Option<string>("--selector", "-l") { Description = "A label selector (app=web, tier in (a,b), !canary)." };
        var watch = new Option<bool>("--watch", "-w") { Description = "After the list, print a row for every change, until interrupted." };
        var kubeconfig = ClusterContext.KubeconfigOption();
        var lab = ClusterContext.LabOption();
        var command = new Command("get", "Show objects as kubectl get does.") { kind, name, ns, all, output, selector, watch, kubeconfig, lab };
        command.SetAction(async (parse, token) =>
        {
            if (ResourceMap.Find(parse.GetValue(kind)!) is not { } resource)
            {
                Console.Error.WriteLine($"error: the server doesn't have a resource type \"{parse.GetValue(kind)}\"");
                return 1;
            }
            if (ClusterContext.Resolve(parse.GetValue(kubeconfig), parse.GetValue(lab)) is not { } context)
            {
                return 2;
            }
            using var api = new ApiClient(context.Kubeconfig);
            var allNamespaces = parse.GetValue(all) && parse.GetValue(name) is null;
            var namespaceName = allNamespaces ? null : parse.GetValue(ns);
            var path = resource.Path(namespaceName);
            var single = parse.GetValue(name);
            if (single is not null)
            {
                path += "/" + Uri.EscapeDataString(single);
            }
            else if (parse.GetValue(selector) is { } labels)
            {
                path += "?labelSelector=" + Uri.EscapeDataString(labels);
            }
            var format = parse.GetValue(output);
            var table = format is null or "wide";
            var (status, body) = await api.GetAsync(path, table ? ApiClient.TableAccept : "application/json", token);
            if (status == 404 && single is not null)
            {
                Console.Error.WriteLine($"Error from server (NotFound): {resource.Resource} \"{single}\" not found");
                return 1;
            }
            if (status >= 400 || body is null)
            {
                Console.Error.WriteLine($"Error from server: {(string?)body?["message"] ?? $"HTTP {status}"}");
                return 1;
            }
            if (table)
            {
                if (body["rows"] is JsonArray { Count: 0 })
                {
                    Console.Error.WriteLine(allNamespaces || !resource.Namespaced ? "No resources found" : $"No resources found in {namespaceName} namespace.");
                }
                else
                {
                    Console.Write(TableText.Format(body, format == "wide", allNamespaces && resource.Namespaced));
                }
                if (parse.GetValue(watch))
                {
                    await WatchAsync(api, resource.Path(namespaceName), single, parse.GetValue(selector), (string?)body["metadata"]?["resourceVersion"], format == "wide", allNamespaces && resource.Namespaced, token);
                }
                return 0;
            }
            var items = single is not null ? [body] : body["items"]!.AsArray().Select(i => i!.DeepClone()).ToArray();
            foreach (var item in items)
            {
                item!["apiVersion"] ??= resource.Group.Length == 0 ? resource.Version : $"{resource.Group}/{resource.Version}";
                item["kind"] ??= resource.Kind;
            }
            switch (format)
            {
                case "name":
                    foreach (var item in items)
                    {
                        Console.WriteLine($"{resource.Singular}/{item!["metadata"]!["name"]}");
                    }
                    break;
                case "json":
                    Console.WriteLine(Json(single is not null ? items[0]! : ListOf(items)));
                    break;
                case "yaml":
                    Console.Write(Yaml.Write(single is not null ? items[0]! : ListOf(items)));
                    break;
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// kubectl get -w: one row a change, each aligned on its own as kubectl's are, from a watch
    /// that asks for Table events; a watch the server ends is resumed from the last version seen.
    /// </summary>
    private static async Task WatchAsync(ApiClient api, string path, string? name, string? selector, string? resourceVersion, bool wide, bool withNamespace, CancellationToken token)
    {
        var query = "watch=true";
        if (name is not null)
        {
            query += "&fieldSelector=" + Uri.EscapeDataString($"metadata.name={name}");
        }
        if (selector is not null)
        {
            query += "&labelSelector=" + Uri.EscapeDataString(selector);
        }
        JsonArray? columns = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var from = resourceVersion is null ? "" : "&resourceVersion=" + resourceVersion;
                await foreach (var change in api.WatchAsync($"{path}?{query}{from}", ApiClient.TableAccept, token))
                {
                    if ((string?)change["type"] is "BOOKMARK" or "ERROR")
                    {
                        resourceVersion = (string?)change["type"] == "ERROR" ? null : (string?)change["object"]?["metadata"]?["resourceVersion"] ?? resourceVersion;
                        continue;
                    }
                    var table = change["object"]!;
                    // As kube-apiserver does, only the first Table of a watch defines the columns.
                    if (table["columnDefinitions"] is JsonArray { Count: > 0 } defined)
                    {
                        columns = (JsonArray)defined.DeepClone();
                    }
                    else if (columns is not null)
                    {
                        table["columnDefinitions"] = columns.DeepClone();
                    }
                    else
                    {
                        continue;
                    }
                    resourceVersion = (string?)table["rows"]?[0]?["object"]?["metadata"]?["resourceVersion"] ?? resourceVersion;
                    Console.Write(TableText.Format(table, wide, withNamespace, withHeaders: false));
                    await Console.Out.FlushAsync(token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A v1 List, as kubectl prints several objects.</summary>
    private static JsonObject ListOf(IEnumerable<JsonNode?> items) => new()
    {
        ["apiVersion"] = "v1",
        ["items"] = new JsonArray(items.ToArray()),
        ["kind"] = "List",
        ["metadata"] = new JsonObject { ["resourceVersion"] = "" },
    };

    private static string Json(JsonNode node) =>
        node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 4, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
