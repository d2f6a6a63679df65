/**
 * The client side of GET /status (docs/operations.md): the URL of a peer's /status from what a
 * person types (`host:port` or a URL), one bounded GET (time limit, body size limit, abortable),
 * all of a list at once, and the TLS files of the command-line flags (`--cacert`, `--cert`,
 * `--key`). Used by `grapevine status` and by the dashboard's poller (model.ts).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ConfigError, errorMessage } from '../base/errors.js';
import type { PeerStatusDocument } from '../node/status.js';

export type StatusAnswer =
  | { readonly url: string; readonly ok: true; readonly status: PeerStatusDocument }
  | { readonly url: string; readonly ok: false; readonly error: string };

/** Largest answer read (bytes); a larger one fails the request. */
export const MAX_STATUS_BODY = 32 * 1024 * 1024;

export interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The TLS flags of `grapevine status` and `grapevine dashboard`. */
export interface TlsFlags {
  cacert?: string;
  cert?: string;
  key?: string;
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

/** GET one peer's /status; rejects after `timeoutMs` without an answer, or when `signal` aborts. */
export function fetchStatus(
  url: URL,
  timeoutMs: number,
  tls: TlsFiles = {},
  signal?: AbortSignal,
): Promise<PeerStatusDocument> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json' },
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
        ...(url.protocol === 'https:' ? tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_STATUS_BODY) req.destroy(new Error(`answer larger than ${MAX_STATUS_BODY} bytes`));
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
    // a timeout is an overall deadline here: Node's `timeout` only bounds idle sockets
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => {
      clearTimeout(deadline);
      reject(e);
    });
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

/** The files named by the TLS flags, read now (a missing file fails naming its flag). */
export function readTlsFiles(flags: TlsFlags): TlsFiles {
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
