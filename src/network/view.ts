/**
 * The terminal view of `grapevine network up`: heights, leaders, where each peer takes its blocks
 * from (its upstream peer, the orderer, or gossip when streams are off) and dissemination latency,
 * redrawn in place on a TTY, or a one-line summary every few seconds otherwise.
 */
import type { NetworkSnapshot } from './state.js';

const short = (n: string) => n.replace(/\.example\.com$/, '');
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

export function renderView(s: NetworkSnapshot): string {
  const up = ((s.now - s.startedAt) / 1000).toFixed(0);
  const lines: string[] = [];
  lines.push(
    `Grapevine network · channel ${s.channel} · up ${up} s · ${s.stats.txAccepted}/${s.stats.txSent} tx accepted`,
  );
  if (s.dashboard) lines.push(`dashboard: ${s.dashboard}   (Ctrl-C stops everything)`);
  const m = s.milestones;
  if (m.firstBlockEverywhereAt)
    lines.push(
      `first block committed on every peer ${((m.firstBlockEverywhereAt - s.startedAt) / 1000).toFixed(1)} s after start`,
    );
  lines.push('');
  lines.push(
    `${pad('peer', 24)}${pad('org', 9)}${lpad('height', 7)}  ${pad('leader', 7)}${pad('blocks from', 20)}${lpad('links', 6)}${lpad('RSS', 8)}  status`,
  );
  for (const p of s.peers) {
    const rss = p.rssBytes ? `${Math.round(p.rssBytes / 1048576)} MB` : '';
    const from = p.upstream === undefined ? 'gossip' : p.upstream === '' ? '-' : short(p.upstream);
    lines.push(
      `${pad(p.name, 24)}${pad(p.org, 9)}${lpad(p.height, 7)}  ${pad(p.leader ? '★' : '', 7)}${pad(from, 20)}${lpad(p.connections.length, 6)}${lpad(rss, 8)}  ${p.status}${p.restarts ? `, restarted ${p.restarts}x` : ''}${p.error ? ` (${p.error})` : ''}`,
    );
  }
  lines.push(
    `${pad(s.orderer.name, 24)}${pad('orderer', 9)}${lpad('', 7)}  ${pad('', 7)}${lpad('', 6)}${lpad('', 8)}  ${s.orderer.status}${s.orderer.restarts ? `, restarted ${s.orderer.restarts}x` : ''}`,
  );
  lines.push('');
  lines.push(
    `leaders: ${s.orgs.map((o) => `${o.mspId} ${o.leader ? short(o.leader) : '(electing)'}`).join(' · ')}`,
  );
  const lat = s.stats.medianLatencyMs;
  lines.push(
    `dissemination latency (first to last commit of a block): median ${lat === undefined ? '-' : `${lat} ms`}`,
  );
  for (const b of s.blocks.slice(0, 5)) {
    const hops = b.hops.map(
      (h) =>
        `${short(h.peer).split('.')[0]}.${short(h.peer).split('.')[1] ?? ''}+${h.orgDelayMs}${h.source === 'orderer' ? '(ord)' : h.source === 'push' ? '' : h.source === 'stream' ? '(str)' : `(${h.source})`}`,
    );
    lines.push(
      `  block ${lpad(b.number, 5)} ${lpad(b.complete ? `${b.latencyMs} ms` : '…', 9)}  ${hops.join(' ')}`,
    );
  }
  return lines.join('\n');
}

export class TerminalView {
  private timer?: NodeJS.Timeout;
  private lastLine = 0;

  constructor(
    private readonly state: () => NetworkSnapshot,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  start(): void {
    const tty = this.out.isTTY === true;
    this.timer = setInterval(() => {
      const s = this.state();
      if (tty) {
        this.out.write(`\x1b[H\x1b[2J${renderView(s)}\n`);
      } else if (s.now - this.lastLine >= 5000) {
        this.lastLine = s.now;
        const heights = s.peers
          .map(
            (p) =>
              `${short(p.name).split('.').slice(0, 2).join('.')}=${p.height}${p.leader ? '*' : ''}${
                p.upstream && p.upstream !== 'orderer' ? `<${short(p.upstream).split('.')[0]}` : ''
              }`,
          )
          .join(' ');
        // name=height, * the org leader, <peerN the peer it streams blocks from
        this.out.write(
          `heights ${heights} · median latency ${s.stats.medianLatencyMs ?? '-'} ms · tx ${s.stats.txAccepted}/${s.stats.txSent}\n`,
        );
      }
    }, 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
