using System.Diagnostics;
using k8s;
using k8s.Models;
using Podnet.Kernel;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// `podnet lab ui` on a three-node lab with the demo, looked at in a real headless Chromium
/// (Debian's, driven over the DevTools protocol): the page lists every node, pod and Service
/// with the API's addresses, shows a new pod and a stopped node's NotReady without a reload,
/// and says so when the lab goes down. Screenshots of each state go to artifacts/webview under
/// the test output. How long the page took is printed, not asserted (bench/ is for figures).
/// </summary>
public sealed class WebViewLabTests(ITestOutputHelper output)
{
    private static readonly string s_artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts", "webview");

    [PrivilegedFact]
    public async Task PageShowsTheDemo_ThenANewPod_ThenAStoppedNodeNotReady_ThenTheLabGoingDown()
    {
        Directory.CreateDirectory(s_artifacts);
        using var lab = new TempLab("ui");
        lab.Up("--demo", "--node-grace", "2s");
        var client = lab.View.Client;
        using var ui = StartUi(lab.Name, out var url);
        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium(),
            Headless = true,
            // Root has no user namespace sandbox here; the page is our own, from 127.0.0.1.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1600, Height = 1000 });
        await page.GoToAsync(url.ToString());

        // Every node, pod and Service, with the addresses the API has.
        var nodes = (await client.CoreV1.ListNodeAsync()).Items;
        // lab up returns before the demo's pods have addresses: wait for them, then compare.
        var pods = new List<V1Pod>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        do
        {
            pods = (await client.CoreV1.ListPodForAllNamespacesAsync()).Items.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
            if (pods.Count >= 5 && pods.All(p => p.Spec.NodeName is not null && p.Status?.PodIP is not null))
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the demo's pods did not get addresses within 2 minutes");
            await Task.Delay(250);
        }
        while (true);
        var services = (await client.CoreV1.ListServiceForAllNamespacesAsync()).Items;
        Assert.Equal(3, nodes.Count);
        Assert.Contains(pods, p => p.Metadata.Name == "client");
        Assert.Contains(services, s => s.Metadata.Name == "web");
        foreach (var node in nodes)
        {
            var address = node.Status.Addresses.First(a => a.Type == "InternalIP").Address;
            await WaitForRow(page, "node", node.Metadata.Name, [address, node.Spec.PodCIDR, "Ready"], TimeSpan.FromSeconds(60));
        }
        foreach (var pod in pods)
        {
            await WaitForRow(page, "pod", $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}", [pod.Spec.NodeName, pod.Status.PodIP], TimeSpan.FromSeconds(60));
        }
        foreach (var service in services)
        {
            await WaitForRow(page, "service", $"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}",
                [service.Spec.Type, service.Spec.ClusterIP, $"{service.Metadata.Name}.{service.Metadata.NamespaceProperty}.svc.cluster.local"], TimeSpan.FromSeconds(60));
        }
        // The web Service's endpoints are its pods, in the table and as lines in the picture.
        var web = pods.Where(p => p.Metadata.Labels is { } labels && labels.TryGetValue("app", out var app) && app == "web").ToList();
        Assert.Equal(3, web.Count);
        await WaitForRow(page, "service", "default/web", web.Select(p => p.Status.PodIP).ToArray(), TimeSpan.FromSeconds(60));
        foreach (var pod in pods)
        {
            Assert.True(await page.EvaluateFunctionAsync<bool>("id => window.podnetUi.cy.getElementById(id).nonempty()", $"p:{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}"),
                $"pod {pod.Metadata.Name} is not drawn");
        }
        Assert.Equal(3, await page.EvaluateExpressionAsync<int>("window.podnetUi.cy.edges('.endpoint').filter(e => e.source().id() === 's:default/web').length"));
        await Screenshot(page, "1-demo");

        var watch = Stopwatch.StartNew();
        // Search: the client's address picks out the client, in the picture and in the table.
        var clientIp = pods.Single(p => p.Metadata.Name == "client").Status.PodIP;
        await page.TypeAsync("#search", clientIp);
        Assert.True(await page.EvaluateExpressionAsync<bool>("window.podnetUi.cy.getElementById('p:default/client').hasClass('match')"));
        Assert.True(await page.EvaluateFunctionAsync<bool>("id => window.podnetUi.cy.getElementById(id).hasClass('faded')", $"p:default/{web[0].Metadata.Name}"));
        Assert.Equal(["default/client"], await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#pods-table tbody tr:not(.hidden)')].map(r => r.dataset.key)"));
        await Screenshot(page, "1-search");
        await page.EvaluateExpressionAsync("(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); })()");

        // Live flows: a curl from the client to the web Service shows as client → web → a web pod,
        // with the proxy's DNAT, read from the node's conntrack through nodes/proxy.
        var webService = services.Single(s => s.Metadata.Name == "web");
        var curl = lab.Run("exec", "--lab", lab.Name, "client", "--", "curl", "-s", "-m", "5", $"http://{webService.Spec.ClusterIP}/hostname");
        Assert.True(curl.Success, curl.StandardError);
        await page.ClickAsync("#tab-flows");
        watch.Restart();
        await page.WaitForFunctionAsync(
            "ip => [...document.querySelectorAll('#flows-table tbody tr')].some(r => r.textContent.includes('(default/client)') && r.textContent.includes('default/web ' + ip) && r.textContent.includes('DNAT ' + ip + ':80'))",
            new WaitForFunctionOptions { Timeout = 30_000, PollingInterval = 100 }, webService.Spec.ClusterIP);
        output.WriteLine($"the curl's flow shown {watch.ElapsedMilliseconds} ms after it returned");
        Assert.True(await page.EvaluateExpressionAsync<bool>("window.podnetUi.cy.getElementById('s:default/web').hasClass('active')"));
        // The filter narrows the table; pause freezes it.
        await page.TypeAsync("#flow-filter", "default/client");
        Assert.True(await page.EvaluateExpressionAsync<bool>("[...document.querySelectorAll('#flows-table tbody tr:not(.hidden)')].every(r => r.textContent.includes('default/client'))"));
        const string clientRows = "[...document.querySelectorAll('#flows-table tbody tr')].filter(r => r.textContent.includes('(default/client)')).length";
        const string clientFlows = "Object.values(window.podnetUi.state.objects.flows).filter(f => f.sourcePod === 'default/client').length";
        await page.ClickAsync("#pause");
        Assert.Equal("true", await page.EvaluateExpressionAsync<string>("document.getElementById('pause').getAttribute('aria-pressed')"));
        var frozen = await page.EvaluateExpressionAsync<int>(clientRows);
        curl = lab.Run("exec", "--lab", lab.Name, "client", "--", "curl", "-s", "-m", "5", $"http://{webService.Spec.ClusterIP}/hostname");
        Assert.True(curl.Success, curl.StandardError);
        // The new connection reaches the page, which redraws, but the paused table does not change.
        await page.WaitForFunctionAsync($"n => {clientFlows} > n", new WaitForFunctionOptions { Timeout = 30_000, PollingInterval = 100 }, frozen);
        var renders = await page.EvaluateExpressionAsync<int>("window.podnetUi.renders");
        await page.WaitForFunctionAsync("n => window.podnetUi.renders > n", new WaitForFunctionOptions { Timeout = 10_000, PollingInterval = 50 }, renders);
        Assert.Equal(frozen, await page.EvaluateExpressionAsync<int>(clientRows));
        await page.ClickAsync("#pause");
        await page.WaitForFunctionAsync($"n => {clientRows} > n", new WaitForFunctionOptions { Timeout = 10_000, PollingInterval = 50 }, frozen);
        await Screenshot(page, "1-flows");
        await page.EvaluateExpressionAsync("document.getElementById('tab-graph').click()");

        // The policy view: a web pod isolated for ingress, only pods without an app label let in.
        await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(new V1NetworkPolicy
        {
            Metadata = new V1ObjectMeta { Name = "web-from-unlabelled" },
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app", OperatorProperty = "DoesNotExist" }] } }] }],
            },
        }, "default");
        await page.ClickAsync("#tab-table");
        // The table is redrawn on every change, so the row is clicked inside the page in one step
        // (a pointer click can find its element replaced between locating and clicking it).
        await page.EvaluateFunctionAsync("key => document.querySelector(`#pods-table tr[data-key='${key}'] td`).click()", $"default/{web[0].Metadata.Name}");
        await page.WaitForFunctionAsync("() => document.getElementById('policy-body').textContent.includes('isolated for ingress by default/web-from-unlabelled')",
            new WaitForFunctionOptions { Timeout = 30_000, PollingInterval = 100 });
        Task<string?> ReachRow(string kind, string peer) => page.EvaluateFunctionAsync<string?>(
            "(kind, peer) => { const r = [...document.querySelectorAll('#policy-body tr')].find(r => r.dataset.kind === kind && r.dataset.key.startsWith(peer + '|')); return r ? r.className + ' ' + r.textContent : null; }", kind, peer);
        Assert.Contains($"allowed by ingress of default/{web[0].Metadata.Name}: default/web-from-unlabelled ingress[0]", await ReachRow("reach-in", "default/client"));
        var denied = await ReachRow("reach-in", $"default/{web[1].Metadata.Name}");
        Assert.StartsWith("denied", denied);
        Assert.Contains("isolated by default/web-from-unlabelled; no rule allows it", denied);
        // Its own egress is not isolated: it may reach the client.
        Assert.Contains("allowed: neither side isolated", await ReachRow("reach-out", "default/client"));
        // A ClusterNetworkPolicy's Admin Deny over that allow: the open panel fetches again and names its rule.
        await client.CustomObjects.CreateClusterCustomObjectAsync(new Dictionary<string, object>
        {
            ["apiVersion"] = "policy.networking.k8s.io/v1alpha2",
            ["kind"] = "ClusterNetworkPolicy",
            ["metadata"] = new Dictionary<string, object> { ["name"] = "no-client-to-web" },
            ["spec"] = new Dictionary<string, object>
            {
                ["tier"] = "Admin",
                ["priority"] = 5,
                ["subject"] = new Dictionary<string, object> { ["pods"] = new Dictionary<string, object> { ["namespaceSelector"] = new Dictionary<string, object>(), ["podSelector"] = new Dictionary<string, object> { ["matchLabels"] = new Dictionary<string, string> { ["app"] = "web" } } } },
                ["ingress"] = new[] { new Dictionary<string, object> { ["name"] = "not-from-client", ["action"] = "Deny", ["from"] = new[] { new Dictionary<string, object> { ["pods"] = new Dictionary<string, object> { ["namespaceSelector"] = new Dictionary<string, object>(), ["podSelector"] = new Dictionary<string, object> { ["matchExpressions"] = new[] { new Dictionary<string, string> { ["key"] = "app", ["operator"] = "DoesNotExist" } } } } } } } },
            },
        }, "policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies");
        try
        {
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#policy-body tr[data-key]')].some(r => r.dataset.key.startsWith('default/client|') && r.textContent.includes('denied by cnp:no-client-to-web Admin/5 ingress[0] not-from-client'))",
                new WaitForFunctionOptions { Timeout = 30_000, PollingInterval = 100 });
        }
        catch (WaitTaskTimeoutException)
        {
            var seen = await page.EvaluateExpressionAsync<string>("JSON.stringify(window.podnetUi.state.objects.clusternetworkpolicies) + ' | ' + document.getElementById('policy-body').textContent.slice(0, 600)");
            Assert.Fail("the policy view did not name the ClusterNetworkPolicy's rule; the page had: " + seen);
        }
        await WaitForRow(page, "clusternetworkpolicy", "no-client-to-web", ["Admin", "5", "1 ingress"], TimeSpan.FromSeconds(30));
        await Screenshot(page, "1-policy");
        await page.ClickAsync("#policy-close");
        await page.ClickAsync("#tab-graph");

        // A new pod appears without a reload.
        watch.Restart();
        await client.CoreV1.CreateNamespacedPodAsync(LabFixtureView.ServerPod("uiprobe", "n1"), "default");
        await WaitForRow(page, "pod", "default/uiprobe", ["n1"], TimeSpan.FromSeconds(30));
        output.WriteLine($"new pod shown {watch.ElapsedMilliseconds} ms after its create returned");
        var probe = await lab.View.WaitForPodAsync("default", "uiprobe", p => p.Status?.PodIP is not null);
        await WaitForRow(page, "pod", "default/uiprobe", [probe.Status.PodIP], TimeSpan.FromSeconds(30));
        await Screenshot(page, "2-new-pod");

        // A stopped node turns NotReady on the page.
        Assert.True(lab.Run("lab", "node", "stop", "n2", "--name", lab.Name).Success);
        watch.Restart();
        await WaitForRow(page, "node", "n2", ["NotReady"], TimeSpan.FromSeconds(90));
        output.WriteLine($"n2 shown NotReady {watch.ElapsedMilliseconds} ms after lab node stop returned (node grace 2 s)");
        Assert.True(await page.EvaluateExpressionAsync<bool>("window.podnetUi.cy.getElementById('n:n2').hasClass('notready')"));
        await Screenshot(page, "3-node-stopped");

        // The lab going down: the banner says the connection to the lab is lost.
        lab.Dispose();
        await page.WaitForFunctionAsync("() => { const b = document.getElementById('banner'); return !b.hidden && b.textContent.includes('Connection to the lab lost'); }",
            new WaitForFunctionOptions { Timeout = 60_000, PollingInterval = 200 });
        await Screenshot(page, "4-lab-down");
        Assert.True(ui.Terminate(), "podnet lab ui did not exit on SIGTERM");
    }

    [PrivilegedFact]
    public void LabUi_WithoutALab_SaysSo()
    {
        var result = ProcessRunner.Run(null, RepoPaths.Bin("podnet"), ["lab", "ui", "--name", "nosuchlab9"], timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no running lab named nosuchlab9", result.StandardError);
    }

    private static async Task WaitForRow(IPage page, string kind, string key, string[] texts, TimeSpan timeout)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "(kind, key, texts) => { const row = [...document.querySelectorAll('tr[data-kind]')].find(r => r.dataset.kind === kind && r.dataset.key === key); return !!row && texts.every(t => row.textContent.includes(t)); }",
                new WaitForFunctionOptions { Timeout = (int)timeout.TotalMilliseconds, PollingInterval = 50 }, kind, key, texts);
        }
        catch (WaitTaskTimeoutException)
        {
            var row = await page.EvaluateFunctionAsync<string?>("(kind, key) => { const r = [...document.querySelectorAll('tr[data-kind]')].find(r => r.dataset.kind === kind && r.dataset.key === key); return r ? r.textContent : null; }", kind, key);
            Assert.Fail($"the page's {kind} {key} did not show [{string.Join(", ", texts)}] within {timeout.TotalSeconds} s; its row: {row ?? "(none)"}");
        }
    }

    private static async Task Screenshot(IPage page, string name)
    {
        await page.ScreenshotAsync(Path.Combine(s_artifacts, name + ".png"));
        await page.ClickAsync("#tab-table");
        await page.ScreenshotAsync(Path.Combine(s_artifacts, name + "-table.png"), new ScreenshotOptions { FullPage = true });
        await page.ClickAsync("#tab-graph");
    }

    private static string Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Debian's chromium is not installed (scripts/deps.sh test installs it)");

    /// <summary>Starts `podnet lab ui` and waits (bounded) for the URL it prints; disposing the handle ends it.</summary>
    private static UiProcess StartUi(string lab, out Uri url)
    {
        var process = Process.Start(new ProcessStartInfo(RepoPaths.Bin("podnet"), ["lab", "ui", "--name", lab])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var handle = new UiProcess(process);
        process.ErrorDataReceived += (_, e) => handle.Errors.Add(e.Data ?? "");
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null || !line.Result.Contains("http://127.0.0.1:", StringComparison.Ordinal))
        {
            handle.Dispose();
            throw new InvalidOperationException($"podnet lab ui printed no URL: {line.Status} {(line.IsCompletedSuccessfully ? line.Result : "")} {string.Join("\n", handle.Errors)}");
        }
        var at = line.Result.IndexOf("http://", StringComparison.Ordinal);
        url = new Uri(line.Result[at..].Split(' ')[0]);
        return handle;
    }

    private sealed class UiProcess(Process process) : IDisposable
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Errors { get; } = [];

        /// <summary>Ends it as a service manager would, with SIGTERM; true when it exited by itself within 20 s.</summary>
        public bool Terminate()
        {
            ProcessSignals.Kill(process.Id, 15);
            return process.WaitForExit(20_000);
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
            process.Dispose();
        }
    }
}
