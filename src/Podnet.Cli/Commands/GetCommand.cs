using System.CommandLine;
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
            var request = GetRequest.Of(resource, parse.GetValue(name), parse.GetValue(ns)!, parse.GetValue(all), parse.GetValue(output), parse.GetValue(selector));
            var (status, body) = await api.GetAsync(request.Path, request.Accept, token);
            var code = request.Print(status, body, Console.Out, Console.Error);
            if (code == 0 && request.Table && parse.GetValue(watch))
            {
                await WatchAsync(api, resource.Path(request.Namespace), request.Name, parse.GetValue(selector), (string?)body!["metadata"]?["resourceVersion"], request.Format == "wide", request.WithNamespace, token);
            }
            return code;
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
}
