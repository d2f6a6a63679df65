/* global document, EventSource, fetch */
// Grapevine dashboard: renders the network seen through peers' GET /status (the state at
// /api/network, pushed as server-sent events on /api/events; src/watch/model.ts DashboardState).
'use strict';

const $ = (sel) => document.querySelector(sel);
const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const short = (name) => String(name ?? '').replace(/\.example\.com$/, '');
const mb = (b) => (b ? `${(b / 1048576).toFixed(0)} MB` : '');
const SVGNS = 'http://www.w3.org/2000/svg';
const time = (ms) => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString().slice(11, 19) : '');
const ago = (now, ms) => {
  if (!ms) return '';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The key of a member in orgs[].members and edges: its PKI-ID, or its endpoint before one is known. */
const keyOf = (m) => m.pkiId || m.endpoint;

function renderSummary(s) {
  const answering = s.sources.filter((x) => x.ok).length;
  const chans = s.channels
    .map((c) => `${c.name} ${c.minHeight === c.maxHeight ? c.maxHeight : `${c.minHeight}–${c.maxHeight}`}`)
    .join(' · ');
  const dead = s.members.filter((m) => m.state === 'dead').length;
  const tx =
    s.local && s.local.txSent !== undefined ? ` · ${s.local.txAccepted}/${s.local.txSent} tx accepted` : '';
  $('#title-sub').textContent = s.title;
  $('#summary').textContent =
    `${s.members.length} peers in ${s.orgs.length} orgs${dead ? ` (${dead} dead)` : ''} · ` +
    `${chans ? `heights ${chans} · ` : ''}${answering}/${s.sources.length} status URLs answering · ` +
    `${s.alerts.length} alert${s.alerts.length === 1 ? '' : 's'}${tx}`;
}

function renderAlerts(s) {
  const el = $('#alerts');
  el.classList.toggle('has-alerts', s.alerts.length > 0);
  $('#alert-count').textContent = s.alerts.length ? `(${s.alerts.length})` : '';
  if (s.alerts.length === 0) {
    el.innerHTML = '<div class="quiet" data-testid="no-alerts">no alerts</div>';
    return;
  }
  el.innerHTML = s.alerts
    .map((a) => {
      const subject = [a.org, a.channel, a.endpoint].filter(Boolean).join(' · ');
      const by = a.reportedBy.length ? `seen by ${a.reportedBy.map(short).join(', ')}` : 'this dashboard';
      const since = a.since ? `since ${a.since.replace('T', ' ').slice(0, 19)} UTC` : '';
      return `<div class="alert sev-${esc(a.severity)}" data-testid="alert" data-kind="${esc(a.kind)}">
  <span class="sev">${esc(a.severity)}</span><span class="kind">${esc(a.kind)}</span>
  <span class="msg">${esc(a.message || a.kind)}</span>
  <span class="meta">${esc([subject, since, by].filter(Boolean).join(' · '))}</span></div>`;
    })
    .join('');
}

function renderTopology(s) {
  const svg = $('#topology');
  svg.replaceChildren();
  const W = 960;
  const byKey = new Map(s.members.map((m) => [keyOf(m), m]));
  const ch = s.channels[0] && s.channels[0].name;
  const n = Math.max(1, s.orgs.length);
  const top = s.local && s.local.orderer ? 110 : 20;
  const maxPeers = Math.max(1, ...s.orgs.map((o) => o.members.length));
  const boxH = Math.max(200, Math.min(320, 140 + maxPeers * 18));
  svg.setAttribute('viewBox', `0 0 ${W} ${top + boxH + 20}`);
  const pos = new Map();
  const boxW = Math.min(420, W / n - 20);
  s.orgs.forEach((org, i) => {
    const cx = ((i + 0.5) * W) / n;
    const cy = top + boxH / 2 + 10;
    svg.append(svgEl('rect', { class: 'org', x: cx - boxW / 2, y: top, width: boxW, height: boxH, rx: 14 }));
    const leaders = ch && org.leaders[ch];
    const lead = leaders === undefined ? 'leader unknown' : leaders.length === 0 ? 'no leader' : '';
    svg.append(
      svgEl('text', { x: cx - boxW / 2 + 10, y: top + 18 }, `${org.mspId}${lead ? ` · ${lead}` : ''}`),
    );
    const rx = boxW / 2 - 60;
    const ry = boxH / 2 - 55;
    org.members.forEach((key, k) => {
      const a = org.members.length === 1 ? 0 : -Math.PI / 2 + (2 * Math.PI * k) / org.members.length;
      const r = org.members.length === 1 ? 0 : 1;
      pos.set(key, { x: cx + r * rx * Math.cos(a), y: cy + 8 + r * ry * Math.sin(a) });
    });
  });
  for (const e of s.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    svg.append(
      svgEl('line', { class: e.kind === 'stream' ? 'stream' : 'edge', x1: a.x, y1: a.y, x2: b.x, y2: b.y }),
    );
  }
  if (s.local && s.local.orderer) {
    const o = s.local.orderer;
    const ox = W / 2;
    const oy = 40;
    for (const m of s.members) {
      if (!ch || !m.leaderOf.includes(ch) || !pos.has(keyOf(m))) continue;
      const a = pos.get(keyOf(m));
      svg.append(svgEl('line', { class: 'deliver', x1: ox, y1: oy + 18, x2: a.x, y2: a.y - 24 }));
    }
    svg.append(svgEl('rect', { class: 'orderer', x: ox - 110, y: oy - 20, width: 220, height: 38, rx: 8 }));
    svg.append(
      svgEl(
        'text',
        { x: ox, y: oy + 4, 'text-anchor': 'middle' },
        `${short(o.name)} (${o.status}${o.restarts ? `, restarted ${o.restarts}x` : ''})`,
      ),
    );
  }
  for (const [key, a] of pos) {
    const m = byKey.get(key);
    if (!m) continue;
    const leader = ch && m.leaderOf.includes(ch);
    const down = m.state === 'dead' || (m.local && m.local.status !== 'running');
    const g = svgEl('g', { 'data-peer': m.name, 'data-state': m.state });
    if (m.state === 'answering')
      g.append(svgEl('circle', { class: 'observer-ring', cx: a.x, cy: a.y, r: 29 }));
    g.append(
      svgEl('circle', {
        class: `peer${leader ? ' is-leader' : ''}${down ? ' down' : ''}${m.stalledSince ? ' stalled' : ''}`,
        cx: a.x,
        cy: a.y,
        r: 24,
      }),
    );
    g.append(
      svgEl(
        'text',
        { x: a.x, y: a.y - 2, 'text-anchor': 'middle' },
        `${leader ? '★ ' : ''}${short(m.name).split('.')[0]}`,
      ),
    );
    const h = ch && m.heights[ch] !== undefined ? `h ${m.heights[ch]}` : m.state;
    g.append(svgEl('text', { x: a.x, y: a.y + 13, 'text-anchor': 'middle', class: 'small' }, h));
    g.append(svgEl('title', {}, `${m.name} ${m.endpoint} (${m.state})`));
    svg.append(g);
  }
}

const STATE_TEXT = {
  answering: 'answering',
  alive: 'alive',
  dead: 'dead',
  disputed: 'disputed',
  unknown: 'not seen',
};

function stateCell(m, now) {
  const votes = m.state === 'disputed' ? ` (${m.votes.alive} alive, ${m.votes.dead} dead)` : '';
  const seen = m.state === 'dead' && m.lastSeen ? ` · last seen ${ago(now, m.lastSeen)}` : '';
  const local = m.local
    ? ` · ${m.local.status}${m.local.restarts ? `, restarted ${m.local.restarts}x` : ''}`
    : '';
  const bad = m.state === 'dead' || m.state === 'disputed' || (m.local && m.local.status !== 'running');
  const title = m.local && m.local.error ? m.local.error : '';
  return `<td class="${bad ? 'bad' : ''}" data-testid="state" title="${esc(title)}">${esc(STATE_TEXT[m.state] || m.state)}${esc(votes + seen + local)}</td>`;
}

/** Where an answering peer takes its blocks from (its block-stream upstream), per channel. */
function fromCell(m) {
  if (!m.observer) return '';
  if (m.observer.streams.length === 0) return 'gossip';
  return m.observer.streams
    .map((st) =>
      st.upstream
        ? `stream ← ${short(st.upstream)}`
        : st.plan === 'leader' || st.plan === 'source'
          ? 'orderer'
          : '-',
    )
    .join(', ');
}

function certCell(m, now) {
  if (!m.cert)
    return m.state === 'answering'
      ? '<td class="quiet" title="a peer\'s /status does not list its own certificate; another answering peer of the network would">-</td>'
      : '<td class="quiet" title="no view holds its identity">?</td>';
  const days = Math.floor((Date.parse(m.cert.notAfter) - now) / 86400000);
  const cls = m.cert.expired ? 'bad' : days < 30 ? 'warn' : '';
  return `<td class="${cls}" title="${esc(m.cert.notAfter)}">${m.cert.expired ? 'EXPIRED ' : ''}${esc(m.cert.notAfter.slice(0, 10))}</td>`;
}

function renderPeers(s) {
  const chans = s.channels.map((c) => c.name);
  $('#peers thead').innerHTML = `<tr><th>peer</th><th>org</th><th>endpoint</th><th>state</th>${chans
    .map((c) => `<th class="num" title="height (blocks behind the highest)">${esc(c)}</th>`)
    .join('')}<th>leader</th><th>blocks from</th><th class="num">links</th><th>cert expires</th>${
    s.local ? '<th class="num">RSS</th>' : ''
  }</tr>`;
  $('#peers tbody').innerHTML = s.members
    .map((m) => {
      const heights = chans
        .map((c, i) => {
          if (m.heights[c] === undefined) {
            const last = m.lastHeights && m.lastHeights[c];
            return last === undefined
              ? `<td class="num" data-channel="${esc(c)}">-</td>`
              : `<td class="num quiet" data-channel="${esc(c)}" title="the last height seen">(${esc(last)})</td>`;
          }
          const lag = m.lag[c] || 0;
          return `<td class="num${lag > 0 ? ' behind' : ''}" data-channel="${esc(c)}"${i === 0 ? ' data-testid="height"' : ''}>${esc(m.heights[c])}${lag > 0 ? ` <small data-testid="lag">−${esc(lag)}</small>` : ''}</td>`;
        })
        .join('');
      const leads = m.leaderOf.length
        ? `★ ${m.leaderOf.length === chans.length && chans.length === 1 ? 'leader' : m.leaderOf.join(', ')}`
        : '';
      return `<tr data-testid="peer-row" data-peer="${esc(m.name)}" data-state="${esc(m.state)}" class="${m.state === 'answering' ? 'observer' : ''}">
  <td class="name" title="${esc(m.pkiId)}">${esc(m.name)}${m.stalledSince ? ' <small class="warn">stalled</small>' : ''}${
    m.alerts ? ` <small class="bad" data-testid="member-alert">⚠ ${esc(m.alerts.join(', '))}</small>` : ''
  }</td><td>${esc(m.org)}</td>
  <td class="endpoint" title="${esc(m.endpoint)}${m.internalOnly ? ' (internal endpoint: no external endpoint known, other orgs cannot reach it)' : ''}">${m.internalOnly ? '<small class="warn" data-testid="internal-only">internal</small> ' : ''}${esc(m.endpoint)}</td>${stateCell(m, s.now)}${heights}
  <td class="${leads ? 'leader' : ''}" data-testid="leader-flag">${esc(leads)}</td>
  <td data-testid="upstream">${esc(fromCell(m))}</td>
  <td class="num">${m.observer ? esc(m.observer.connections) : ''}</td>${certCell(m, s.now)}${
    s.local ? `<td class="num">${mb(m.local && m.local.rssBytes)}</td>` : ''
  }</tr>`;
    })
    .join('');
}

function renderLeaders(s) {
  const name = (k) => {
    const m = s.members.find((x) => keyOf(x) === k);
    return m ? m.name : k.slice(0, 12);
  };
  const rows = [];
  for (const c of s.channels)
    for (const o of s.orgs) {
      const l = o.leaders[c.name];
      const text =
        l === undefined
          ? 'unknown (no answering peer in this org)'
          : l.length === 0
            ? 'none'
            : l.map(name).join(', ');
      const cls = l === undefined ? 'quiet' : l.length === 1 ? 'leader' : 'bad';
      rows.push(
        `<tr><td>${esc(c.name)}</td><td>${esc(o.mspId)}</td><td class="${cls}" data-testid="leader-${esc(o.mspId)}" data-channel="${esc(c.name)}">${esc(text)}</td></tr>`,
      );
    }
  $('#leaders tbody').innerHTML = rows.join('');
}

function renderSources(s) {
  $('#sources tbody').innerHTML = s.sources
    .map(
      (x) => `<tr data-testid="source" data-url="${esc(x.url)}" data-ok="${x.ok}">
  <td class="endpoint" title="${esc(x.url)}">${esc(x.url)}</td>
  <td class="${x.ok ? '' : 'bad'}">${x.ok ? `answers: ${esc(x.peer)} (${esc(x.org)})` : `unreachable: ${esc(x.error || 'no answer yet')}`}</td>
  <td>${x.ok ? esc(ago(s.now, x.lastOkAt)) : x.failingSince ? `since ${esc(time(x.failingSince))}` : ''}</td></tr>`,
    )
    .join('');
}

function renderRefused(s) {
  const list = s.refused || [];
  $('#refused-count').textContent = list.length ? `(${list.length})` : '';
  const body = $('#refused tbody');
  if (list.length === 0) {
    body.innerHTML =
      '<tr><td colspan="7" class="quiet" data-testid="no-refused">no refused handshakes</td></tr>';
    return;
  }
  body.innerHTML = list
    .map((r) => {
      const cert = r.cert
        ? `${r.cert.subject}${r.cert.mspId ? ` (${r.cert.mspId})` : ''} · ${r.cert.expired ? 'EXPIRED' : 'expires'} ${r.cert.notAfter.slice(0, 10)}`
        : 'no certificate';
      const why = r.identityMismatch
        ? `${r.reason}: claims to be a different peer (PKI-ID ${String(r.claimedPkiId).slice(0, 16)}, expected ${String(r.expectedPkiId).slice(0, 16)})`
        : r.reason;
      return `<tr data-testid="refused-row" data-reason="${esc(r.reason)}" data-expired="${r.cert ? r.cert.expired : false}">
  <td>${r.direction === 'in' ? 'from' : 'to'}</td>
  <td class="endpoint" title="${esc(r.endpoint)}">${esc(r.endpoint)}</td>
  <td class="${r.identityMismatch || (r.cert && r.cert.expired) ? 'bad' : ''}" title="${esc(r.error)}">${esc(why)}</td>
  <td>${esc(r.count)}</td>
  <td>${esc(ago(s.now, Date.parse(r.last)))}</td>
  <td class="${r.cert && r.cert.expired ? 'bad' : ''}" title="${esc(cert)}">${esc(cert)}</td>
  <td>${esc(short(r.seenBy))}</td></tr>`;
    })
    .join('');
}

function renderBlocks(s) {
  $('#blocks').innerHTML =
    s.blocks
      .slice(0, 12)
      .map((b) => {
        const hops = b.arrivals
          .map((h) => {
            const how =
              h.source === 'orderer'
                ? 'from orderer'
                : h.from
                  ? `${h.source} from ${short(h.from)}`
                  : h.source;
            return `<span class="hop ${esc(h.source)}" title="${esc(h.peer)} at ${esc(new Date(h.at).toISOString())}">${esc(short(h.peer))} +${esc(h.delayMs)} ms · ${esc(how)}${h.latencyMs !== undefined ? ` · committed ${esc(h.latencyMs)} ms after it arrived` : ''}</span>`;
          })
          .join('');
        return `<div class="block" data-testid="block"><span class="no">${esc(s.channels.length > 1 ? `${b.channel} ` : '')}#${esc(b.number)}</span><span class="lat">${esc(time(b.firstAt))} · ${b.arrivals.length > 1 ? `${esc(b.spreadMs)} ms from first to last` : 'one arrival'}</span><div>${hops}</div></div>`;
      })
      .join('') || '<div class="quiet">no block committed by an answering peer yet</div>';
}

function renderEvents(s) {
  $('#events').innerHTML =
    s.events
      .slice(0, 60)
      .map(
        (e) =>
          `<div class="event ev-${esc(e.kind)}" data-testid="event" data-kind="${esc(e.kind)}"><span class="at">${esc(time(e.at))}</span><span class="kind">${esc(e.kind)}</span>${esc(e.message)}</div>`,
      )
      .join('') || '<div class="quiet">nothing changed yet</div>';
}

function render(s) {
  renderSummary(s);
  renderAlerts(s);
  renderRefused(s);
  renderTopology(s);
  renderPeers(s);
  renderLeaders(s);
  renderSources(s);
  renderBlocks(s);
  renderEvents(s);
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
