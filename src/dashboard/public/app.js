/* global document, EventSource, fetch */
// Grapevine dashboard: renders /api/network (pushed as server-sent events on /api/events).
'use strict';

const $ = (sel) => document.querySelector(sel);
const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const short = (name) => String(name).replace(/\.example\.com$/, '');
const mb = (b) => (b ? `${(b / 1048576).toFixed(0)} MB` : '');
const SVGNS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function renderSummary(s) {
  const secs = ((s.now - s.startedAt) / 1000).toFixed(0);
  const first = s.milestones.firstBlockEverywhereAt
    ? `first block on every peer after ${((s.milestones.firstBlockEverywhereAt - s.startedAt) / 1000).toFixed(1)} s · `
    : '';
  const lat =
    s.stats.medianLatencyMs !== undefined ? `median dissemination ${s.stats.medianLatencyMs} ms · ` : '';
  $('#summary').textContent =
    `channel ${s.channel} · heights ${s.stats.minHeight}–${s.stats.maxHeight} · ${lat}${first}${s.stats.txAccepted}/${s.stats.txSent} tx accepted · up ${secs} s`;
}

function renderTopology(s) {
  const svg = $('#topology');
  svg.replaceChildren();
  const W = 960;
  const pos = new Map();
  const ox = W / 2,
    oy = 40;
  s.orgs.forEach((org, i) => {
    const cx = ((i + 0.5) * W) / s.orgs.length;
    const cy = 230;
    svg.append(svgEl('rect', { class: 'org', x: cx - 200, y: 110, width: 400, height: 255, rx: 14 }));
    svg.append(svgEl('text', { x: cx - 190, y: 130 }, org.mspId));
    org.peers.forEach((name, k) => {
      const a = -Math.PI / 2 + (2 * Math.PI * k) / org.peers.length;
      pos.set(name, { x: cx + 120 * Math.cos(a), y: cy + 20 + 85 * Math.sin(a) });
    });
  });
  const seen = new Set();
  for (const p of s.peers) {
    for (const q of p.connections) {
      const key = [p.name, q].sort().join('|');
      if (seen.has(key) || !pos.has(q) || !pos.has(p.name)) continue;
      seen.add(key);
      const a = pos.get(p.name),
        b = pos.get(q);
      svg.append(svgEl('line', { class: 'edge', x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
    }
  }
  for (const p of s.peers) {
    if (!p.leader || !pos.has(p.name)) continue;
    const a = pos.get(p.name);
    svg.append(svgEl('line', { class: 'deliver', x1: ox, y1: oy + 18, x2: a.x, y2: a.y - 26 }));
  }
  svg.append(svgEl('rect', { class: 'orderer', x: ox - 90, y: oy - 20, width: 180, height: 38, rx: 8 }));
  svg.append(
    svgEl(
      'text',
      { x: ox, y: oy + 4, 'text-anchor': 'middle' },
      `${short(s.orderer.name)} (${s.orderer.status}${s.orderer.restarts ? `, restarted ${s.orderer.restarts}x` : ''})`,
    ),
  );
  for (const p of s.peers) {
    const a = pos.get(p.name);
    if (!a) continue;
    const g = svgEl('g', { 'data-peer': p.name });
    g.append(
      svgEl('circle', {
        class: `peer${p.leader ? ' is-leader' : ''}${p.status === 'running' ? '' : ' down'}`,
        cx: a.x,
        cy: a.y,
        r: 26,
      }),
    );
    g.append(
      svgEl(
        'text',
        { x: a.x, y: a.y - 2, 'text-anchor': 'middle' },
        `${p.leader ? '★ ' : ''}${short(p.name).split('.')[0]}`,
      ),
    );
    g.append(
      svgEl('text', { x: a.x, y: a.y + 13, 'text-anchor': 'middle', class: 'small' }, `h ${p.height}`),
    );
    svg.append(g);
  }
}

/** Where a peer takes its blocks from: its upstream peer, the orderer, or gossip (streams off). */
function upstreamText(p) {
  if (p.upstream === undefined || p.upstream === null) return 'gossip';
  if (p.upstream === '') return '-';
  return p.upstream === 'orderer' ? 'orderer' : `stream ← ${short(p.upstream)}`;
}

function renderTables(s) {
  $('#leaders tbody').innerHTML = s.orgs
    .map(
      (o) =>
        `<tr><td>${esc(s.channel)}</td><td>${esc(o.mspId)}</td><td class="${o.leader ? 'leader' : 'bad'}" data-testid="leader-${esc(o.mspId)}">${o.leader ? esc(o.leader) : 'none (electing)'}</td></tr>`,
    )
    .join('');
  $('#peers tbody').innerHTML = s.peers
    .map(
      (p) => `<tr data-testid="peer-row" data-peer="${esc(p.name)}">
  <td>${esc(p.name)}</td><td>${esc(p.org)}</td><td>${esc(p.endpoint)}</td>
  <td class="num" data-testid="height">${p.height}</td>
  <td class="${p.leader ? 'leader' : ''}" data-testid="leader-flag">${p.leader ? '★ leader' : ''}</td>
  <td data-testid="upstream" title="${p.depth === undefined ? '' : `depth ${p.depth} in the stream tree`}">${esc(upstreamText(p))}</td>
  <td class="num">${p.connections.length}</td><td class="num">${mb(p.rssBytes)}</td>
  <td class="${p.status === 'running' ? '' : 'bad'}" title="${esc(p.error || '')}">${esc(p.status)}${p.restarts ? ` <small>restarted ${p.restarts}x</small>` : ''}</td></tr>`,
    )
    .join('');
}

function renderBlocks(s) {
  $('#blocks').innerHTML = s.blocks
    .slice(0, 12)
    .map((b) => {
      const hops = b.hops
        .map((h) => {
          const how =
            h.source === 'orderer' ? 'from orderer' : h.from ? `${h.source} from ${short(h.from)}` : h.source;
          return `<span class="hop ${esc(h.source)}" title="${esc(h.peer)}">${esc(short(h.peer))} +${h.orgDelayMs} ms · ${esc(how)}</span>`;
        })
        .join('');
      return `<div class="block" data-testid="block"><span class="no">#${b.number}</span><span class="lat">${b.complete ? `${b.latencyMs} ms across the network` : 'in flight'}</span><div>${hops}</div></div>`;
    })
    .join('');
}

function render(s) {
  renderSummary(s);
  renderTopology(s);
  renderTables(s);
  renderBlocks(s);
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('state', (e) => {
    $('#conn').classList.add('live');
    $('#conn').title = 'live';
    render(JSON.parse(e.data));
  });
  es.onerror = () => {
    $('#conn').classList.remove('live');
    $('#conn').title = 'reconnecting';
  };
}

fetch('/api/network')
  .then((r) => r.json())
  .then(render)
  .catch(() => undefined)
  .finally(connect);
