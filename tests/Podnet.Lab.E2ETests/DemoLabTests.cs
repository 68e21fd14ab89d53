using System.Text.RegularExpressions;
using k8s;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// The README's first command, `podnet lab up --demo`, on its defaults: every command of the
/// "Try:" list it prints is run as printed (as root, so without sudo; lines with a placeholder
/// to fill in and `lab down` aside), and says what the list says it shows.
/// </summary>
public sealed partial class DemoLabTests
{
    [GeneratedRegex(@"\s{2,}#.*$")]
    private static partial Regex Comment();

    [PrivilegedFact]
    public async Task LabUpDemo_EveryCommandItSuggests_WorksAsPrinted()
    {
        using var lab = new TempLab("demo");
        var up = lab.Up("--demo");
        var tries = up.StandardOutput.Split('\n').SkipWhile(l => l.Trim() != "Try:").Skip(1)
            .Select(l => Comment().Replace(l, "").Trim()).Where(l => l.Length > 0).ToList();
        Assert.Contains(tries, l => l.StartsWith("./podnet exec", StringComparison.Ordinal));
        var kubeconfig = (string)lab.Status["kubeconfig"]!;
        Assert.Contains($"export KUBECONFIG={kubeconfig}", tries);

        // The demo is applied by the time `lab up` returns; its pods become Ready soon after.
        var client = lab.View.Client;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        k8s.Models.V1PodList pods;
        while (true)
        {
            pods = await client.CoreV1.ListNamespacedPodAsync("default");
            var endpoints = await client.CoreV1.ListNamespacedEndpointsAsync("default", fieldSelector: "metadata.name=web");
            if (pods.Items.Count == 4 && pods.Items.All(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
                && endpoints.Items.SingleOrDefault()?.Subsets?.Sum(s => s.Addresses?.Count ?? 0) == 3)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the demo's four pods Ready and the web Endpoints with three addresses within 2 minutes");
            await Task.Delay(500);
        }
        var webNames = pods.Items.Where(p => p.Metadata.Name.StartsWith("web-", StringComparison.Ordinal)).Select(p => p.Metadata.Name).ToHashSet();
        var clientIp = pods.Items.Single(p => p.Metadata.Name == "client").Status.PodIP;
        var serviceIp = (await client.CoreV1.ReadNamespacedServiceAsync("web", "default")).Spec.ClusterIP;

        ProcessResult RunLine(string line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words[0] switch
            {
                "./podnet" => lab.Run(words[1..]),
                "kubectl" => ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. words[1..]], timeout: TimeSpan.FromSeconds(60)),
                "sudo" => ProcessRunner.Run(null, words[1], words[2..], timeout: TimeSpan.FromSeconds(60)),
                _ => throw new InvalidOperationException($"a suggested command this test does not know how to run: {line}"),
            };
        }
        var ran = 0;
        foreach (var line in tries.Where(l => !l.Contains('<') && !l.StartsWith("export ", StringComparison.Ordinal) && !l.Contains(" lab down ")))
        {
            var result = RunLine(line);
            Assert.True(result.Success, $"{line}\n{result.StandardOutput}{result.StandardError}");
            var output = result.StandardOutput;
            ran++;
            if (line.EndsWith("/hostname", StringComparison.Ordinal))
            {
                Assert.Contains(output.Trim(), webNames);
            }
            else if (line.EndsWith("/clientip", StringComparison.Ordinal))
            {
                Assert.StartsWith(clientIp + ":", output.Trim());
            }
            else if (line.Contains("dig +short web.default", StringComparison.Ordinal))
            {
                Assert.Equal(serviceIp, output.Trim());
            }
            else if (line.Contains("dig +short -x", StringComparison.Ordinal))
            {
                Assert.Equal("web.default.svc.cluster.local.", output.Trim());
            }
            else if (line.Contains("nft list table ip podnet-proxy", StringComparison.Ordinal))
            {
                Assert.Contains(serviceIp, output);
            }
            else if (line.Contains("get endpointslices", StringComparison.Ordinal))
            {
                Assert.Contains("web-", output);
            }
        }
        Assert.True(ran >= 12, $"ran {ran} of the suggested commands");

        // The v1 Endpoints beside the slices, as `kubectl get endpoints` shows them.
        var endpointsTable = RunLine("kubectl get endpoints web");
        Assert.Matches(@"web\s+(\d+\.){3}\d+:8080,(\d+\.){3}\d+:8080,(\d+\.){3}\d+:8080", endpointsTable.StandardOutput);
    }
}
