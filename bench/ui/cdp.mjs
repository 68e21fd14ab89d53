// bench/ui's browser side: opens the page over the DevTools protocol, times the first render
// (performance.now() when every node and pod is drawn: milliseconds since navigation start),
// then creates pods one at a time and times each from its create returning to the page
// showing it (both clocks are this machine's Date.now()).
import { execFileSync } from 'node:child_process';
const [url, port, nodes, pods, updates, lab, podnet] = process.argv.slice(2);
const list = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const ws = new WebSocket(list.find(t => t.type === 'page').webSocketDebuggerUrl);
let id = 0; const pending = new Map();
ws.onmessage = e => { const m = JSON.parse(e.data); if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } };
const send = (method, params = {}) => new Promise(r => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
const evaluate = async expression => (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })).result.result.value;
await new Promise(r => ws.onopen = r);
await send('Page.enable');
await send('Page.navigate', { url });
const drawn = `(() => { const cy = window.podnetUi && window.podnetUi.cy; return !!cy && cy.nodes('.node').length >= ${nodes} && cy.nodes('.pod').length >= ${pods}; })()`;
const first = await evaluate(`new Promise(r => { const t = setInterval(() => { if (${drawn}) { clearInterval(t); r(performance.now()); } }, 5); })`);
const median = a => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const lat = [];
for (let i = 0; i < Number(updates); i++) {
  const name = `uibench-${i}`;
  const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }] } });
  execFileSync(podnet, ['apply', '--lab', lab, '-f', '-'], { input: manifest });
  const created = Date.now();
  const shown = await evaluate(`new Promise(r => { const t = setInterval(() => { if (document.querySelector('tr[data-key="default/${name}"]')) { clearInterval(t); r(Date.now()); } }, 2); })`);
  lat.push(shown - created);
}
const fmt = n => `${Math.round(n)} ms`;
console.log(`lab web view, ${nodes} nodes x ${Number(pods) / Number(nodes)} pods`);
console.log(`  first render (navigation start to every node and pod drawn): ${fmt(first)}   target 2000 ms   ratio ${(first / 2000).toFixed(2)}`);
console.log(`  update (pod create returned to the page showing it), median of ${lat.length}: ${fmt(median(lat))} (max ${fmt(Math.max(...lat))})   target 500 ms   ratio ${(median(lat) / 500).toFixed(2)}`);
console.log('  (the create is timed from `podnet apply` returning, so the figure includes nothing of the CLI start but all of watch, stream and redraw)');
process.exit(0);
