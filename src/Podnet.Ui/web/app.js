// Podnet lab web view. The server sends the lab's objects as one snapshot, then every change
// (Server-Sent Events on /events, JSON messages described in ../README.md); this script keeps
// them in `state` and redraws the picture (Cytoscape.js, laid out by fCoSE) and the table view
// from them. Nothing here writes to the cluster. Layout runs again only when the set of drawn
// elements changes; a change of label or status restyles in place, so the picture stays put.
'use strict';

const kinds = ['nodes', 'pods', 'services', 'endpointslices', 'networkpolicies', 'clusternetworkpolicies', 'namespaces', 'flows', 'drops'];
const state = { lab: null, connected: false, error: null, stream: false, objects: {} };
kinds.forEach(k => state.objects[k] = {});
const ui = window.podnetUi = { state, cy: null, renders: 0, events: 0, lastRenderAt: 0 };
const $ = id => document.getElementById(id);

// ---- the stream -------------------------------------------------------------------------
function connect() {
  const source = new EventSource('events');
  source.onopen = () => { state.stream = true; schedule(); };
  source.onerror = () => { state.stream = false; schedule(); };
  source.onmessage = e => { apply(JSON.parse(e.data)); ui.events++; schedule(); };
}

function apply(m) {
  switch (m.op) {
    case 'snapshot':
      state.lab = m.lab; state.connected = m.connected; state.error = m.error;
      kinds.forEach(k => state.objects[k] = (m.objects && m.objects[k]) || {});
      break;
    case 'upsert': (state.objects[m.kind] ||= {})[m.key] = m.object; policyInput(m.kind); break;
    case 'delete': if (state.objects[m.kind]) delete state.objects[m.kind][m.key]; policyInput(m.kind); break;
    case 'connection': state.connected = m.connected; state.error = m.error; break;
  }
}

let pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  setTimeout(() => { pending = false; render(); }, 30);
}

// ---- the model the two views share --------------------------------------------------------
const list = kind => Object.values(state.objects[kind] || {});
const nodeStatus = n => n.ready === 'True' ? 'Ready' : n.ready === 'False' ? 'NotReady' : 'NotReady (Unknown)';
const podAddress = p => p.ips.join(', ') || (p.hostNetwork ? 'host network' : '—');

function model() {
  const lab = state.lab || { nodes: [] };
  const labNodes = Object.fromEntries((lab.nodes || []).map(n => [n.name, n]));
  const nodes = list('nodes').sort((a, b) => a.name.localeCompare(b.name)).map(n => ({
    ...n, address: n.addresses.join(', ') || (labNodes[n.name] || {}).address || '—',
    podCIDR: n.podCIDRs.join(', ') || '—', status: nodeStatus(n),
  }));
  const pods = list('pods').sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name));
  const slices = list('endpointslices');
  const services = list('services').sort((a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name)).map(s => {
    const endpoints = slices.filter(e => e.namespace === s.namespace && e.service === s.name).flatMap(e => e.endpoints);
    return { ...s, endpoints, address: serviceAddress(s), record: dnsRecord(s, endpoints) };
  });
  const flows = list('flows').sort((a, b) => (a.node + a.source).localeCompare(b.node + b.source));
  const drops = list('drops').sort((a, b) => String(b.time).localeCompare(String(a.time)));
  const clusterPolicies = list('clusternetworkpolicies').sort((a, b) => (a.tier + String(a.priority).padStart(6, '0') + a.name).localeCompare(b.tier + String(b.priority).padStart(6, '0') + b.name));
  return { lab, nodes, pods, services, policies: list('networkpolicies'), clusterPolicies, flows, drops };
}

function serviceAddress(s) {
  if (s.type === 'ExternalName') return 'ExternalName → ' + s.externalName;
  if (s.headless) return 'headless (no ClusterIP)';
  return s.clusterIPs.join(', ');
}

function dnsRecord(s, endpoints) {
  if (s.type === 'ExternalName') return `CNAME ${s.externalName}`;
  if (s.headless) return 'A ' + (endpoints.filter(e => e.ready).flatMap(e => e.addresses).join(', ') || '(no ready endpoints)');
  return 'A ' + s.clusterIPs.join(', ');
}

function externalText(s) {
  const parts = [];
  s.ports.filter(p => p.nodePort).forEach(p => parts.push(`NodePort ${p.nodePort}/${p.protocol}`));
  s.loadBalancerIPs.concat(s.externalIPs).forEach(ip => parts.push(`${ip}${s.announcedBy[ip] ? ' announced by ' + s.announcedBy[ip] : ''}`));
  return parts.join('; ');
}

// ---- rendering ----------------------------------------------------------------------------
function render() {
  const m = model();
  renderHeader(m);
  renderTables(m);
  if (!ui.paused) renderFlows(m);
  if (ui.policyPod) { if (ui.policyStale) refreshPolicy(); else renderPolicy(m); }
  renderGraph(m);
  applySearch();
  ui.renders++;
  ui.lastRenderAt = performance.now();
}

function renderHeader(m) {
  const lab = m.lab;
  document.title = `Podnet lab ${lab.name || ''}`;
  $('title').textContent = `Podnet lab ${lab.name || ''}`;
  $('summary').textContent = lab.name
    ? `${lab.architecture} architecture, ${lab.routing} routing · ${m.nodes.length} nodes, ${m.pods.length} pods, ${m.services.length} Services`
    : 'waiting for the lab…';
  const banner = $('banner');
  const lost = !state.stream ? 'Connection to podnet lab ui lost: the page shows the last state it saw; it reconnects by itself.'
    : (state.lab && !state.connected) ? `Connection to the lab lost: its API server does not answer (${state.error || 'no answer'}). The lab may be down.`
    : null;
  banner.hidden = !lost;
  banner.textContent = lost || '';
}

const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const row = (kind, key, cells, cls) => `<tr data-kind="${kind}" data-key="${esc(key)}"${cls ? ` class="${cls}"` : ''}>${cells.map(c => `<td>${esc(c)}</td>`).join('')}</tr>`;

function renderTables(m) {
  const lab = m.lab;
  $('lab-table').tBodies[0].innerHTML = lab.name ? [
    ['Architecture', `${lab.architecture}: masquerade ${lab.effective?.masquerade}; the outside host routes to ${lab.effective?.outsideRoutesTo}`],
    ['Routing', lab.routing === 'vxlan' ? 'VXLAN tunnels between nodes' : 'host-gw: a route per node pod CIDR via the node address'],
    ['Fabric', `${(lab.fabric?.subnets || []).join(', ')} (${lab.fabric?.netns || ''})`],
    ['Outside host', `${lab.outside?.address} (${lab.outside?.netns})`],
    ['Control plane', `${lab.controlPlane?.address} (${lab.controlPlane?.netns}), API server ${lab.apiServer || ''}`],
    ['Pod CIDRs', (lab.podCIDRs || []).join(', ')],
    ['LoadBalancer pool', (lab.loadBalancerPool || []).join(', ')],
  ].map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('') : '';
  $('nodes-table').tBodies[0].innerHTML = m.nodes.map(n => row('node', n.name,
    [n.name, n.address, n.podCIDR, lab.bridge || 'pn0', lab.routing, n.status, m.pods.filter(p => p.node === n.name).length],
    n.ready === 'True' ? '' : 'notready')).join('');
  $('pods-table').tBodies[0].innerHTML = m.pods.map(p => row('pod', `${p.namespace}/${p.name}`,
    [p.namespace, p.name, p.node || '(not scheduled)', podAddress(p), p.ready ? 'Ready' : 'NotReady', p.deleting ? 'Terminating' : p.phase],
    p.ready ? '' : 'notready')).join('');
  $('services-table').tBodies[0].innerHTML = m.services.map(s => row('service', `${s.namespace}/${s.name}`,
    [s.namespace, s.name, s.headless ? `${s.type} (headless)` : s.type, s.address,
     s.ports.map(p => `${p.port}/${p.protocol}${p.targetPort != null ? '→' + p.targetPort : ''}`).join(', '),
     externalText(s),
     s.endpoints.map(e => `${e.addresses.join(',')}${e.pod ? ' (' + e.pod + ')' : ''}${e.ready ? '' : ' not ready'}`).join('; '),
     `${s.dns}: ${s.record}`])).join('');
  $('policies-table').tBodies[0].innerHTML = m.policies.map(p => row('networkpolicy', `${p.namespace}/${p.name}`,
    [p.namespace, p.name, Object.entries(p.podSelector).map(([k, v]) => `${k}=${v}`).join(',') || '(all pods)',
     p.policyTypes.join(', '), `${p.ingressRules} ingress, ${p.egressRules} egress`])).join('');
  $('cluster-policies-table').tBodies[0].innerHTML = m.clusterPolicies.map(p => row('clusternetworkpolicy', p.name,
    [p.name, p.tier, p.priority, `${p.ingressRules} ingress, ${p.egressRules} egress`])).join('');
}

// ---- live flows --------------------------------------------------------------------------
const withPod = (address, pod) => pod ? `${address} (${pod})` : address;

function renderFlows(m) {
  $('flows-table').tBodies[0].innerHTML = m.flows.map(f => row('flow', `${f.node}|${f.protocol}|${f.source}|${f.destination}`,
    [f.node, f.protocol, withPod(f.source, f.sourcePod), f.service ? `${f.service} ${f.destination}` : withPod(f.destination, null),
     withPod(f.endpoint, f.endpointPod), f.nat || '—', f.state || ''])).join('');
  $('drops-table').tBodies[0].innerHTML = m.drops.map(d => row('drop', `${d.node}|${d.time}|${d.source}|${d.destination}`,
    [d.time, d.node, d.direction, d.pod, d.peer, `${d.protocol}/${d.port}`, d.rule || (d.policies || []).join(', ')], 'dropped')).join('');
  $('flow-summary').textContent = `${m.flows.length} connections, ${m.drops.length} recent drops`;
  applyFlowFilter();
}

function applyFlowFilter() {
  const q = $('flow-filter').value.trim().toLowerCase();
  document.querySelectorAll('#flows tbody tr[data-kind]').forEach(tr => tr.classList.toggle('hidden', !!q && !tr.textContent.toLowerCase().includes(q)));
}

// Pods and Services on a live connection are marked in the picture (a style, so no new layout);
// pods with recent policy drops too.
function markActivity(m) {
  const active = new Set(), dropped = new Set();
  for (const f of m.flows) {
    if (f.sourcePod) active.add('p:' + f.sourcePod);
    if (f.endpointPod) active.add('p:' + f.endpointPod);
    if (f.service) active.add('s:' + f.service);
  }
  for (const d of m.drops) if (d.pod && d.pod.includes('/')) dropped.add('p:' + d.pod);
  ui.cy.batch(() => {
    ui.cy.nodes().forEach(n => {
      n.toggleClass('active', active.has(n.id()));
      n.toggleClass('dropped', dropped.has(n.id()));
    });
  });
}

// ---- the policy view of a selected pod --------------------------------------------------------
// Who may open a connection to the pod, and to whom it may, each with the rule that decides;
// computed by the server (/policy, PolicyReach) and fetched again when pods, namespaces or
// NetworkPolicies change. The pod's recent drops are listed from the live flows' data.
function policyInput(kind) {
  if (ui.policyPod && ['pods', 'namespaces', 'networkpolicies', 'clusternetworkpolicies'].includes(kind)) ui.policyStale = true;
}

async function showPolicy(key) {
  ui.policyPod = key;
  ui.policy = null;
  $('policy-panel').hidden = false;
  $('policy-title').textContent = `Policy for ${key}`;
  $('policy-body').textContent = 'computing…';
  await refreshPolicy();
}

async function refreshPolicy() {
  const key = ui.policyPod;
  ui.policyStale = false;
  let body;
  try {
    const r = await fetch('policy?pod=' + encodeURIComponent(key));
    body = r.ok ? await r.json() : { error: await r.text() };
  } catch (e) { body = { error: String(e) }; }
  if (key !== ui.policyPod) return;
  ui.policy = body;
  ui.policyFetches = (ui.policyFetches || 0) + 1;
  renderPolicy(model());
}

function decision(e) {
  const sides = [[`egress of ${e.egress.pod}`, e.egress], [`ingress of ${e.ingress.pod}`, e.ingress]];
  if (!e.allowed) {
    const [name, side] = sides.find(([, s]) => !s.allowed);
    // A ClusterNetworkPolicy Deny names its rule; a NetworkPolicy isolation has no rule that denies.
    return side.rule ? `${e.verdict}: ${name} denied by ${side.rule}` : `${e.verdict}: ${name} isolated by ${side.isolating.join(', ')}; no rule allows it`;
  }
  const parts = sides.filter(([, s]) => s.rule).map(([name, s]) => `${name}: ${s.rule}`);
  return parts.length ? 'allowed by ' + parts.join('; ') : 'allowed: neither side isolated';
}

function renderPolicy(m) {
  const p = ui.policy, key = ui.policyPod;
  if (!p) return;
  if (p.error) { $('policy-body').textContent = p.error; return; }
  const table = (kind, entries) => `<table><thead><tr><th>Pod</th><th>Port</th><th>Decided by</th></tr></thead><tbody>${
    entries.map(e => row(kind, `${e.peer}|${e.port}/${e.protocol}`, [e.peer, `${e.port}/${e.protocol}`, decision(e)], e.allowed ? '' : 'denied')).join('')}</tbody></table>`;
  const drops = (m.drops || []).filter(d => d.pod === key || d.peer === key);
  const isolated = dir => [...new Set(p.inbound.concat(p.outbound).flatMap(e => (dir === 'in' ? e.ingress : e.egress).pod === key ? (dir === 'in' ? e.ingress : e.egress).isolating : []))];
  const summary = dir => { const by = isolated(dir); return by.length ? `isolated for ${dir === 'in' ? 'ingress' : 'egress'} by ${by.join(', ')}` : `not isolated for ${dir === 'in' ? 'ingress' : 'egress'}`; };
  $('policy-body').innerHTML =
    `<p>${esc(summary('in'))}; ${esc(summary('out'))}.</p>` +
    `<h3>May reach it (${p.inbound.filter(e => e.allowed).length} of ${p.inbound.length})</h3>` + table('reach-in', p.inbound) +
    `<h3>It may reach (${p.outbound.filter(e => e.allowed).length} of ${p.outbound.length})</h3>` + table('reach-out', p.outbound) +
    `<h3>Recent drops (${drops.length})</h3>` + (drops.length ? `<table><tbody>${drops.map(d => row('drop', `${d.time}|${d.source}`, [d.time, d.direction, `${d.source} → ${d.destination} ${d.protocol}/${d.port}`, d.rule || (d.policies || []).join(', ')], 'dropped')).join('')}</tbody></table>` : '<p>none</p>');
}

$('policy-close').addEventListener('click', () => { ui.policyPod = null; $('policy-panel').hidden = true; });
$('pods-table').addEventListener('click', e => { const tr = e.target.closest('tr[data-kind=pod]'); if (tr) showPolicy(tr.dataset.key); });

function elements(m) {
  const lab = m.lab, els = [];
  // Sizes come from the label: fCoSE needs them before drawing to keep boxes apart (and edges
  // between boxes that overlap are not drawn at all).
  const add = (id, label, cls, extra = {}) => {
    const lines = label.split('\n');
    els.push({ group: 'nodes', data: { id, label, search: label.toLowerCase(), w: Math.max(...lines.map(l => l.length)) * 5.4 + 14, h: lines.length * 12 + 10, ...extra }, classes: cls });
  };
  const link = (id, source, target, label, cls) => els.push({ group: 'edges', data: { id, source, target, label: label || '' }, classes: cls });
  add('fabric', `fabric ${(lab.fabric?.subnets || []).join(', ')}`, 'fabric');
  add('outside', `outside host ${lab.outside?.address || ''}\n${lab.architecture || ''}: reaches ${lab.effective?.outsideRoutesTo || ''}`, 'host');
  add('cp', `control plane ${lab.controlPlane?.address || ''}\nAPI server, controllers`, 'host');
  link('e:outside', 'outside', 'fabric', '', 'wire');
  link('e:cp', 'cp', 'fabric', '', 'wire');
  for (const n of m.nodes) {
    add('n:' + n.name, `${n.name} ${n.address} · pods ${n.podCIDR} · ${n.status}`, 'node' + (n.ready === 'True' ? '' : ' notready'));
    add('b:' + n.name, `bridge ${lab.bridge || 'pn0'}`, 'bridge', { parent: 'n:' + n.name });
    link('e:n:' + n.name, 'n:' + n.name, 'fabric', '', 'wire');
    if (lab.architecture === 'flat') link('e:flat:' + n.name, 'outside', 'b:' + n.name, 'routes to ' + n.podCIDR, 'flat');
  }
  for (let i = 0; i < m.nodes.length; i++) for (let j = i + 1; j < m.nodes.length; j++) {
    const a = m.nodes[i].name, b = m.nodes[j].name;
    link(`r:${a}:${b}`, 'b:' + a, 'b:' + b, lab.routing === 'vxlan' ? 'VXLAN' : 'host-gw', 'route ' + (lab.routing === 'vxlan' ? 'vxlan' : 'hostgw'));
  }
  const known = new Set(m.nodes.map(n => n.name));
  for (const p of m.pods) {
    if (!p.node || !known.has(p.node)) continue;
    const id = `p:${p.namespace}/${p.name}`;
    add(id, `${p.name}\n${p.namespace} · ${podAddress(p)}${p.ready ? '' : ' · not ready'}`, 'pod' + (p.ready ? '' : ' notready'), { parent: 'n:' + p.node });
    if (!p.hostNetwork) link('v:' + id, id, 'b:' + p.node, '', 'veth');
  }
  if (m.services.length) add('svcs', 'Services', 'group');
  const podIds = new Set(m.pods.map(p => `${p.namespace}/${p.name}`));
  for (const s of m.services) {
    const id = `s:${s.namespace}/${s.name}`;
    const what = s.type === 'ExternalName' ? `ExternalName → ${s.externalName}` : s.headless ? 'headless: DNS gives the pods' : `${s.type} ${s.clusterIPs.join(', ')}`;
    const ext = externalText(s);
    add(id, `${s.name} (${s.namespace})\n${what}${ext ? '\n' + ext : ''}\n${s.dns}`, 'service' + (s.headless ? ' headless' : '') + (s.type === 'ExternalName' ? ' externalname' : ''), { parent: 'svcs' });
    s.endpoints.forEach(e => {
      if (e.pod && podIds.has(`${s.namespace}/${e.pod}`)) link(`ep:${id}:${e.pod}`, id, `p:${s.namespace}/${e.pod}`, '', 'endpoint' + (e.ready ? '' : ' notready'));
    });
    Object.entries(s.announcedBy).forEach(([ip, node]) => { if (known.has(node)) link(`an:${id}:${ip}`, id, 'n:' + node, `${ip} announced`, 'announce'); });
  }
  return els;
}

const style = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 9, 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center', shape: 'round-rectangle', width: 'data(w)', height: 'data(h)', 'background-color': '#ffffff', 'border-width': 1, 'border-color': '#7a8a9a' } },
  { selector: ':parent', style: { 'text-valign': 'top', 'text-halign': 'center', 'background-color': '#f4f7fa', 'font-size': 11, 'font-weight': 'bold', padding: 12 } },
  { selector: '.fabric', style: { 'background-color': '#dfe9f3', 'font-weight': 'bold' } },
  { selector: '.host', style: { 'background-color': '#fff6e0' } },
  { selector: '.node', style: { 'border-width': 2, 'border-color': '#2f6f3e' } },
  { selector: '.node.notready', style: { 'border-color': '#b3261e', 'border-style': 'dashed', 'background-color': '#fbeaea', color: '#b3261e' } },
  { selector: '.bridge', style: { 'background-color': '#e8eef5' } },
  { selector: '.pod', style: { 'background-color': '#eaf6ec', 'border-color': '#2f6f3e' } },
  { selector: '.pod.notready', style: { 'background-color': '#fdf0d5', 'border-color': '#a66b00' } },
  { selector: '.group', style: { 'background-color': '#f7f2fb' } },
  { selector: '.service', style: { 'background-color': '#efe6f8', 'border-color': '#6a3d9a' } },
  { selector: '.service.headless, .service.externalname', style: { 'border-style': 'dashed' } },
  { selector: 'edge', style: { width: 1, 'line-color': '#9aa8b6', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 8, 'text-rotation': 'autorotate' } },
  { selector: '.route', style: { 'line-color': '#3d6fb3', 'line-style': 'dashed', width: 1.5 } },
  { selector: '.route.vxlan', style: { 'line-color': '#b35f3d' } },
  { selector: '.flat', style: { 'line-color': '#c08a00', 'line-style': 'dotted' } },
  { selector: '.endpoint', style: { 'line-color': '#6a3d9a', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#6a3d9a' } },
  { selector: '.endpoint.notready', style: { 'line-style': 'dashed', opacity: 0.5 } },
  { selector: '.announce', style: { 'line-color': '#c08a00', 'line-style': 'dashed' } },
  { selector: '.active', style: { 'border-width': 3, 'border-color': '#1f7a3a', 'background-color': '#d2f0da' } },
  { selector: '.dropped', style: { 'border-width': 3, 'border-color': '#b3261e', 'border-style': 'double' } },
  { selector: '.match', style: { 'border-width': 3, 'border-color': '#e07000' } },
  { selector: '.faded', style: { opacity: 0.25 } },
];

let lastStructure = '';
function renderGraph(m) {
  const els = elements(m);
  if (!ui.cy) {
    ui.cy = cytoscape({ container: $('graph'), style, minZoom: 0.05, maxZoom: 4 });
    if (typeof cytoscapeFcose === 'function') cytoscape.use(cytoscapeFcose);
    ui.cy.on('tap', 'node.pod', e => showPolicy(e.target.id().slice(2)));
  }
  const cy = ui.cy, want = new Set(els.map(e => e.data.id));
  cy.batch(() => {
    cy.elements().filter(e => !want.has(e.id())).remove();
    for (const e of els) {
      const have = cy.getElementById(e.data.id);
      if (have.nonempty() && (have.data('parent') || null) !== (e.data.parent || null)) have.remove();
      const now = cy.getElementById(e.data.id);
      if (now.empty()) cy.add(e);
      else {
        const { id, parent, source, target, ...changeable } = e.data;
        now.data(changeable);
        now.classes(e.classes);
      }
    }
  });
  if (!ui.paused) markActivity(m);
  const structure = els.map(e => e.data.id + '>' + (e.data.parent || '')).join('|');
  if (structure !== lastStructure) {
    const first = lastStructure === '';
    lastStructure = structure;
    cy.layout({ name: 'fcose', animate: false, randomize: first, quality: 'default', nodeSeparation: 60, idealEdgeLength: 80, nodeRepulsion: 8000, packComponents: true, fit: first }).run();
  }
}

// ---- search, tabs, zoom ---------------------------------------------------------------------
function applySearch() {
  const q = $('search').value.trim().toLowerCase();
  const cy = ui.cy;
  if (cy) cy.batch(() => {
    cy.elements().removeClass('match faded');
    if (q) {
      const hits = cy.nodes().filter(n => (n.data('search') || '').includes(q));
      hits.addClass('match');
      cy.elements().not(hits).not(hits.ancestors()).addClass('faded');
    }
  });
  document.querySelectorAll('#tables tbody tr[data-kind]').forEach(tr => tr.classList.toggle('hidden', !!q && !tr.textContent.toLowerCase().includes(q)));
}

$('search').addEventListener('input', () => {
  applySearch();
  const hits = ui.cy && ui.cy.nodes('.match');
  if (hits && hits.nonempty()) ui.cy.fit(hits, 40);
});
$('search').addEventListener('keydown', e => { if (e.key === 'Escape') { e.target.value = ''; applySearch(); } });
$('fit').addEventListener('click', () => ui.cy && ui.cy.fit(undefined, 20));

function showTab(which) {
  $('tab-graph').setAttribute('aria-selected', String(which === 'graph'));
  $('tab-table').setAttribute('aria-selected', String(which === 'table'));
  $('tab-flows').setAttribute('aria-selected', String(which === 'flows'));
  $('graph').style.visibility = which === 'graph' ? 'visible' : 'hidden';
  $('tables').hidden = which !== 'table';
  $('flows').hidden = which !== 'flows';
  if (which === 'graph' && ui.cy) ui.cy.resize();
}
$('tab-graph').addEventListener('click', () => showTab('graph'));
$('tab-table').addEventListener('click', () => showTab('table'));
$('tab-flows').addEventListener('click', () => showTab('flows'));
$('pause').addEventListener('click', () => {
  ui.paused = !ui.paused;
  $('pause').setAttribute('aria-pressed', String(ui.paused));
  $('pause').textContent = ui.paused ? 'Resume' : 'Pause';
  if (!ui.paused) schedule();
});
$('flow-filter').addEventListener('input', applyFlowFilter);

connect();
