/**
 * `grapevine status <ops-url>...`: GET /status from each peer's operations endpoint (all at
 * once, each with a time limit) and print, for people, one table row per member seen by any of
 * the peers (the answering peers included), then their alerts (merged: one line per kind and
 * subject, most severe first, with the peers that raise it), the handshakes they refused (who,
 * why, how often, the certificate presented) and one line per peer; or, with
 * --json, the answers as one JSON document (the alerts in each answer's `status.alerts`). An
 * endpoint that does not answer 200 with a status document is reported on its own line (or as
 * {ok: false, error}) and the command exits 1.
 */
import { CommanderError } from 'commander';
import type { PeerStatusDocument } from '../../node/status.js';
import {
  collectStatus,
  readTlsFiles,
  statusUrl,
  type StatusAnswer,
  type TlsFlags,
} from '../../watch/client.js';
import { memberRows, mergeAlerts, type MergedAlert } from '../../watch/merge.js';
import { durationOption } from '../options.js';

export interface StatusFlags extends TlsFlags {
  json?: boolean;
  timeout: string;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

/** ` from <endpoint>` (or PKI-ID prefix) of a commit's sender, '' when none. */
function fromOf(s: PeerStatusDocument, c: PeerStatusDocument['commits'][number]): string {
  if (!c.from) return '';
  const m = s.members.find((x) => x.pkiId === c.from);
  return ` from ${c.fromEndpoint || m?.endpoint || m?.internalEndpoint || c.from.slice(0, 16)}`;
}

/** The ALERTS section: one row per alert (merged over the answers, most severe first), or 'ALERTS: none'. */
function alertLines(alerts: readonly MergedAlert[]): string[] {
  if (alerts.length === 0) return ['ALERTS: none'];
  const rows = alerts.map((a) => {
    const meta = [
      a.since ? `since ${a.since.replace('T', ' ').slice(0, 19)} UTC` : '',
      a.reportedBy.length > 0 ? `seen by ${a.reportedBy.join(', ')}` : '',
    ].filter(Boolean);
    return [
      a.severity.toUpperCase(),
      a.kind,
      `${a.message || a.kind}${meta.length ? ` (${meta.join(', ')})` : ''}`,
    ];
  });
  return [`ALERTS (${alerts.length})`, table(['SEVERITY', 'KIND', 'MESSAGE'], rows)];
}

/** Rows of the REFUSED HANDSHAKES section at most (most recent first; --json has them all). */
export const MAX_REFUSED_ROWS = 20;

/** The REFUSED HANDSHAKES section: each answering peer's record, most recently refused first. */
function refusedLines(docs: readonly PeerStatusDocument[]): string[] {
  const all = docs.flatMap((s) => (s.refusedHandshakes ?? []).map((r) => ({ r, by: s.peer.id })));
  if (all.length === 0) return [];
  all.sort((a, b) => b.r.last.localeCompare(a.r.last));
  const rows = all.slice(0, MAX_REFUSED_ROWS).map(({ r, by }) => {
    const cert = r.cert
      ? `${r.cert.subject}${r.cert.mspId ? ` (${r.cert.mspId})` : ''} ${r.cert.expired ? 'EXPIRED' : 'expires'} ${r.cert.notAfter.slice(0, 10)}`
      : '?';
    const why = r.identityMismatch
      ? `${r.reason}: claims to be a different peer (PKI-ID ${r.claimedPkiId?.slice(0, 16)}, expected ${r.expectedPkiId?.slice(0, 16)})`
      : r.reason;
    return [
      r.direction === 'in' ? 'from' : 'to',
      r.endpoint,
      why,
      String(r.count),
      `${r.last.replace('T', ' ').slice(0, 19)} UTC`,
      cert,
      by,
    ];
  });
  return [
    `REFUSED HANDSHAKES (${all.length}${all.length > rows.length ? `, the ${rows.length} latest shown` : ''})`,
    table(['DIR', 'REMOTE', 'REASON', 'COUNT', 'LAST', 'CERTIFICATE', 'SEEN BY'], rows),
    '',
  ];
}

/** What `grapevine status` prints for people. */
export function formatStatus(answers: readonly StatusAnswer[]): string {
  const docs = answers.flatMap((a) => (a.ok ? [a.status] : []));
  const { rows, channels } = memberRows(docs);
  const header = [
    'NAME',
    'ENDPOINT',
    'ORG',
    'ALIVE',
    ...channels.map((c) => `HEIGHT ${c}`),
    'LEADER',
    'CERT EXPIRES',
  ];
  const body = rows.map((r) => [
    r.name || '?',
    r.endpoint ? `${r.endpoint}${r.internalOnly ? ' (internal only)' : ''}` : '?',
    r.org || '?',
    r.observer
      ? 'yes (answered)'
      : r.dead === 0
        ? 'yes'
        : r.alive === 0
          ? 'no'
          : `disputed (${r.alive} yes, ${r.dead} no)`,
    ...channels.map((c) => (r.heights.has(c) ? String(r.heights.get(c)) : '-')),
    r.leaderOf.size > 0 ? [...r.leaderOf].sort().join(',') : '-',
    r.expires ? `${r.expires.slice(0, 10)}${r.expired ? ' EXPIRED' : ''}` : '?',
  ]);
  const out = [docs.length > 0 ? table(header, body) : 'no peer answered', ''];
  if (docs.length > 0) out.push(...alertLines(mergeAlerts(docs)), '', ...refusedLines(docs));
  for (const a of answers) {
    if (!a.ok) {
      out.push(`${a.url}: error: ${a.error}`);
      continue;
    }
    const s = a.status;
    const alive = s.members.filter((m) => m.alive).length;
    const chans = s.channels
      .map((c) => {
        const stream = c.stream
          ? `, stream ${c.stream.plan}${c.stream.upstream ? ` from ${c.stream.upstream.endpoint}` : ''}${c.stream.depth !== undefined ? ` depth ${c.stream.depth}` : ''}`
          : '';
        return `${c.name}@${c.height} (${c.leader ? 'leader' : 'follower'}, ${c.mode}${stream})`;
      })
      .join('; ');
    const last = s.commits.at(-1);
    const lastText = last
      ? `last block ${last.channel}#${last.block} by ${last.source}${fromOf(s, last)} at ${last.at}`
      : 'no block committed since start';
    const refused = [...s.refused]
      .sort((a, b) => b.value - a.value)
      .slice(0, 3)
      .map((r) => {
        const labels = Object.values(r.labels).join(',');
        return `${r.metric.replace(/^grapevine_/, '').replace(/_total$/, '')}${labels ? `{${labels}}` : ''} ${r.value}`;
      });
    const refusedText =
      refused.length === 0
        ? 'nothing dropped or refused'
        : `dropped/refused: ${refused.join(', ')}${s.refused.length > 3 ? ', ...' : ''}`;
    out.push(
      `${a.url}: ${s.peer.id} ${s.peer.mspId} ${s.peer.endpoint} pki ${s.peer.pkiId.slice(0, 16)} v${s.peer.version}; ${chans || 'no channel'}; ` +
        `${s.connections.length} connections; members ${alive} alive, ${s.members.length - alive} dead; ${lastText}; ${refusedText}`,
    );
  }
  return out.join('\n');
}

export async function statusCommand(urls: string[], flags: StatusFlags): Promise<void> {
  const timeoutMs = durationOption('--timeout', flags.timeout, 1, 1);
  for (const u of urls) statusUrl(u);
  const answers = await collectStatus(urls, timeoutMs, readTlsFiles(flags));
  if (flags.json) console.log(JSON.stringify({ peers: answers }, null, 2));
  else console.log(formatStatus(answers));
  const failed = answers.filter((a) => !a.ok);
  if (failed.length > 0)
    throw new CommanderError(
      1,
      'grapevine.status',
      `${failed.length} of ${answers.length} operations endpoints failed: ${failed.map((f) => f.url).join(', ')}`,
    );
}
