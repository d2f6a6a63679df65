/**
 * `grapevine status <ops-url>...`: GET /status from each peer's operations endpoint (all at
 * once, each with a time limit) and print, for people, one table row per member seen by any of
 * the peers (the answering peers included) and one line per peer; or, with --json, the answers
 * as one JSON document. An endpoint that does not answer 200 with a status document is reported
 * on its own line (or as {ok: false, error}) and the command exits 1.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CommanderError } from 'commander';
import { ConfigError, errorMessage } from '../../base/errors.js';
import type { PeerStatusDocument } from '../../node/status.js';
import { durationOption } from '../options.js';

export interface StatusFlags {
  json?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  timeout: string;
}

export type StatusAnswer =
  | { readonly url: string; readonly ok: true; readonly status: PeerStatusDocument }
  | { readonly url: string; readonly ok: false; readonly error: string };

const MAX_BODY = 32 * 1024 * 1024;

interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** `host:port` or a URL, to the URL of its /status. */
export function statusUrl(arg: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? arg : `http://${arg}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError('BAD_URL', `${arg}: not a URL or host:port`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError('BAD_URL', `${arg}: expected http:// or https://`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/status';
  return u;
}

/** GET one peer's /status. */
export function fetchStatus(url: URL, timeoutMs: number, tls: TlsFiles = {}): Promise<PeerStatusDocument> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json' },
        timeout: timeoutMs,
        ...(url.protocol === 'https:' ? tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(
              new Error(
                `HTTP ${res.statusCode ?? '?'}${body.trim() ? `: ${body.trim().slice(0, 200)}` : ''}`,
              ),
            );
            return;
          }
          try {
            const doc = JSON.parse(body) as PeerStatusDocument;
            if (!doc || typeof doc !== 'object' || !doc.peer || !Array.isArray(doc.members))
              throw new Error('not a status document (no peer or members)');
            resolve(doc);
          } catch (e) {
            reject(new Error(`bad answer: ${errorMessage(e)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Every answer, in the order of `urls`. */
export async function collectStatus(
  urls: readonly string[],
  timeoutMs: number,
  tls: TlsFiles = {},
): Promise<StatusAnswer[]> {
  return Promise.all(
    urls.map(async (arg): Promise<StatusAnswer> => {
      try {
        return { url: arg, ok: true, status: await fetchStatus(statusUrl(arg), timeoutMs, tls) };
      } catch (e) {
        return { url: arg, ok: false, error: errorMessage(e) };
      }
    }),
  );
}

interface Row {
  name: string;
  endpoint: string;
  org: string;
  /** views saying alive / dead */
  alive: number;
  dead: number;
  heights: Map<string, number>;
  leaderOf: Set<string>;
  expires?: string;
  expired?: boolean;
  observer: boolean;
}

const cnOf = (subject: string | undefined): string | undefined =>
  subject
    ?.split(', ')
    .find((p) => p.startsWith('CN='))
    ?.slice(3);

/** The table: one row per PKI-ID seen by any answering peer (the peers themselves included). */
export function memberRows(docs: readonly PeerStatusDocument[]): { rows: Row[]; channels: string[] } {
  const rows = new Map<string, Row>();
  const channels = new Set<string>();
  const row = (pkiId: string, endpoint: string, org: string | undefined): Row => {
    let r = rows.get(pkiId);
    if (!r) {
      r = {
        name: '',
        endpoint,
        org: org ?? '',
        alive: 0,
        dead: 0,
        heights: new Map(),
        leaderOf: new Set(),
        observer: false,
      };
      rows.set(pkiId, r);
    }
    if (!r.endpoint && endpoint) r.endpoint = endpoint;
    if (!r.org && org) r.org = org;
    return r;
  };
  for (const d of docs) {
    const self = row(d.peer.pkiId, d.peer.endpoint, d.peer.mspId);
    self.name = d.peer.id;
    self.alive++;
    self.observer = true;
    for (const ch of d.channels) {
      channels.add(ch.name);
      self.heights.set(ch.name, ch.height);
      if (ch.leader) self.leaderOf.add(ch.name);
    }
  }
  for (const d of docs) {
    for (const m of d.members) {
      const r = row(m.pkiId, m.endpoint || m.internalEndpoint, m.mspId);
      if (!r.name) r.name = cnOf(m.cert?.subject) ?? '';
      if (m.cert && !r.expires) {
        r.expires = m.cert.notAfter;
        r.expired = m.cert.expired;
      }
      if (r.observer) continue;
      if (m.alive) r.alive++;
      else r.dead++;
      for (const c of m.channels) {
        channels.add(c.name);
        r.heights.set(c.name, Math.max(r.heights.get(c.name) ?? 0, c.height));
        if (c.leader) r.leaderOf.add(c.name);
      }
    }
  }
  const list = [...rows.values()].sort(
    (a, b) => a.org.localeCompare(b.org) || (a.name || a.endpoint).localeCompare(b.name || b.endpoint),
  );
  return { rows: list, channels: [...channels].sort() };
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
    r.endpoint || '?',
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

function readTls(flags: StatusFlags): TlsFiles {
  const read = (flag: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError('MISSING_FILE', `${flag} ${file}: ${errorMessage(e)}`);
    }
  };
  if ((flags.cert === undefined) !== (flags.key === undefined))
    throw new ConfigError('BAD_FLAG', '--cert and --key go together');
  const ca = read('--cacert', flags.cacert);
  const cert = read('--cert', flags.cert);
  const key = read('--key', flags.key);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

export async function statusCommand(urls: string[], flags: StatusFlags): Promise<void> {
  const timeoutMs = durationOption('--timeout', flags.timeout, 1, 1);
  for (const u of urls) statusUrl(u);
  const answers = await collectStatus(urls, timeoutMs, readTls(flags));
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
