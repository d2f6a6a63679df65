/**
 * The config table (src/config/table.ts): docs/configuration.md's key tables are generated from
 * it, every module slice names table keys, and each default is written once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkOf, configTable, formatMs, REGENERATE, renderConfigDoc } from '../../src/config/docs.js';
import { fields, resolveSlice, slice, sliceDefaults, sliceOf } from '../../src/config/slice.js';
import { defaultOf, envName, KEYS, row } from '../../src/config/table.js';
import { REPO_ROOT } from '../node/config-helpers.js';

describe('docs/configuration.md', () => {
  it(`matches what the table generates (regenerate with \`${REGENERATE}\`)`, () => {
    const file = join(REPO_ROOT, 'docs', 'configuration.md');
    const doc = readFileSync(file, 'utf8');
    const generated = renderConfigDoc(doc);
    if (generated !== doc) {
      const a = doc.split('\n');
      const b = generated.split('\n');
      const i = a.findIndex((line, n) => line !== b[n]);
      assert.fail(
        `docs/configuration.md differs from src/config/table.ts (first at line ${i + 1}):\n` +
          `  committed: ${a[i]}\n  generated: ${b[i]}\n` +
          `Run \`${REGENERATE}\` and commit the result.`,
      );
    }
  });

  it('lists every key with its environment variable', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
    for (const d of KEYS) assert.match(doc, new RegExp(`\\| \`${d.key}\` +\\| \`${envName(d.key)}\` +\\|`));
  });

  it('formats values as a core.yaml would write them', () => {
    assert.deepEqual([0, 10, 1500, 4000, 60_000, 7_200_000].map(formatMs), [
      '0',
      '10ms',
      '1500ms',
      '4s',
      '1m',
      '2h',
    ]);
    assert.equal(checkOf(row('peer.gossip.state.batchSize')), '0 refused');
    assert.equal(checkOf(row('peer.gossip.election.leaderAliveThreshold')), '0 = default; >= 2ms');
    assert.equal(checkOf(row('grapevine.profile')), 'one of fabric, fast');
    assert.match(configTable('fast'), /\| `peer\.gossip\.pullInterval` +\| 4s +\| 200ms +\|/);
  });
});

describe('slices', () => {
  const S = slice(
    'test config',
    {
      ...fields('peer.gossip.pullPeerNum', 'peer.gossip.pullInterval', 'peer.gossip.state.maxRetries'),
      fanout: 'peer.gossip.propagatePeerNum',
    } as const,
    { maxThings: 7 },
  );

  it('field names follow PeerConfig (durations gain Ms); defaults come from the table, per profile', () => {
    assert.deepEqual(Object.keys(S.fields), ['pullPeerNum', 'pullIntervalMs', 'maxRetries', 'fanout']);
    assert.deepEqual(sliceDefaults(S), {
      maxThings: 7,
      pullPeerNum: 3,
      pullIntervalMs: 4000,
      maxRetries: 3,
      fanout: 3,
    });
    assert.equal(sliceDefaults(S, 'fast').pullIntervalMs, defaultOf('peer.gossip.pullInterval', 'fast'));
    assert.equal(sliceDefaults(S, 'fast').pullIntervalMs, 200);
  });

  it('a 0 is the default unless the key keeps it; errors name the key and the field', () => {
    const r = resolveSlice(S, { pullPeerNum: 0, maxRetries: 0, maxThings: 9 });
    assert.deepEqual([r.pullPeerNum, r.maxRetries, r.maxThings], [3, 0, 9]);
    assert.throws(
      () => resolveSlice(S, { fanout: -1 }),
      /peer\.gossip\.propagatePeerNum must be a non-negative whole number, got -1 \(test config: fanout\)/,
    );
    assert.throws(() => resolveSlice(S, { maxThings: 1.5 }), /test config: maxThings must be/);
    assert.throws(() => resolveSlice(S, { nope: 1 } as never), { code: 'UNKNOWN_KEY' });
  });

  it('sliceOf reads a resolved tree at each key', () => {
    const tree = {
      peer: {
        gossip: { pullPeerNum: 5, pullIntervalMs: 100, propagatePeerNum: 2, state: { maxRetries: 0 } },
      },
    };
    assert.deepEqual(sliceOf(S.fields, tree), {
      pullPeerNum: 5,
      pullIntervalMs: 100,
      maxRetries: 0,
      fanout: 2,
    });
  });
});
