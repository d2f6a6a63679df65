/**
 * Fabric's log formats (src/base/log.ts): the text line of Fabric's default format (UTC time,
 * sequence number, 4-letter level, [logger name], function slot, message, key=value fields) and,
 * under FABRIC_LOGGING_FORMAT=json, zap's JSON (string level, ts in seconds, name, msg); a key
 * bound twice appears once; a LogLevels root writes through it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { FabricLogDestination, fabricTime, logFormatFromEnv } from '../../src/base/log.js';
import { LogLevels } from '../../src/node/logspec.js';

function capture(format: 'text' | 'json'): { lines: string[]; dest: FabricLogDestination } {
  const lines: string[] = [];
  return { lines, dest: new FabricLogDestination({ format, out: { write: (s: string) => lines.push(s) } }) };
}

const T = Date.UTC(2026, 11, 7, 13, 55, 12, 345);

test("text: Fabric's default line, fields as key=value, a repeated key once", () => {
  const { lines, dest } = capture('text');
  const log = pino({ base: undefined, timestamp: () => `,"time":${T}` }, dest);
  const discovery = log.child({ component: 'node' }).child({ component: 'discovery', channel: 'ch1' });
  discovery.info({ endpoint: '127.0.0.1:7051', n: 3, why: 'no answer' }, 'member is dead');
  discovery.warn('second');
  log.child({ component: 'catchup' }).debug('hidden at info');
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    '2026-12-07 13:55:12.345 UTC 0001 INFO [gossip.discovery] discovery -> member is dead channel=ch1 endpoint=127.0.0.1:7051 n=3 why="no answer"\n',
  );
  assert.match(
    lines[1]!,
    /^2026-12-07 13:55:12\.345 UTC 0002 WARN \[gossip\.discovery\] discovery -> second channel=ch1\n$/,
  );
  assert.equal(fabricTime(T), '2026-12-07 13:55:12.345 UTC');
});

test('json: string level, ts in seconds, name, msg, fields once', () => {
  const { lines, dest } = capture('json');
  const log = pino({ base: undefined, timestamp: () => `,"time":${T}` }, dest);
  log
    .child({ component: 'node' })
    .child({ component: 'election', channel: 'c' })
    .error({ err: 'boom' }, 'lost');
  log.info('plain');
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    '{"level":"error","ts":1796651712.345,"name":"gossip.election","msg":"lost","channel":"c","err":"boom"}\n',
  );
  // no key twice in the raw line
  const keys = [...lines[0]!.matchAll(/"([a-z]+)":/g)].map((m) => m[1]);
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(JSON.parse(lines[1]!), { level: 'info', ts: T / 1000, name: 'grapevine', msg: 'plain' });
});

test('FABRIC_LOGGING_FORMAT selects the format; LogLevels writes through it', () => {
  assert.equal(logFormatFromEnv({}), 'text');
  assert.equal(logFormatFromEnv({ FABRIC_LOGGING_FORMAT: 'JSON' }), 'json');
  assert.equal(logFormatFromEnv({ FABRIC_LOGGING_FORMAT: '%{message}' }), 'text');
  const lines: string[] = [];
  const levels = new LogLevels({
    spec: 'info',
    destination: new FabricLogDestination({ format: 'json', out: { write: (s: string) => lines.push(s) } }),
  });
  levels.root.child({ component: 'operations' }).info('up');
  assert.equal((JSON.parse(lines[0]!) as { name: string }).name, 'operations.runner');
});
