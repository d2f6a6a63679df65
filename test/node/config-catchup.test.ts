/**
 * `grapevine.catchup.*` keys: the state module's defaults when absent; core.yaml, CORE_*
 * environment and overrides reach stateConfigOf(...).catchup (durations in ms, a 0 meaning the
 * default); bad values and unknown keys under grapevine.catchup are errors naming the key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateConfigOf } from '../../src/node/config/index.js';
import { CATCHUP_DEFAULTS } from '../../src/core/state/config.js';
import { GrapevineError } from '../../src/base/errors.js';
import { load, loadWith, tempDir, ADDR } from './config-helpers.js';

describe('grapevine.catchup keys', () => {
  it("absent: the state module's catch-up defaults, served", () => {
    const c = loadWith({});
    assert.deepEqual(stateConfigOf(c).catchup, CATCHUP_DEFAULTS);
    assert.equal(c.grapevine.catchup.serve, true);
  });

  it('core.yaml, environment and overrides reach the state config', () => {
    const t = tempDir({
      'core.yaml': `peer:\n  address: ${ADDR['peer.address']}\ngrapevine:\n  catchup:\n    enabled: false\n    serve: false\n    idleTimeout: 3s\n    maxFrameBytes: 65536\n    minGap: 0\n`,
    });
    try {
      const c = load({
        file: t.path('core.yaml'),
        env: { CORE_GRAPEVINE_CATCHUP_VERIFYWORKERS: '3' },
        overrides: { 'grapevine.catchup.unsupportedTtl': '1m' },
      });
      const cu = stateConfigOf(c).catchup;
      assert.equal(cu.enabled, false);
      assert.equal(c.grapevine.catchup.serve, false);
      assert.equal(cu.idleTimeoutMs, 3000);
      assert.equal(cu.maxFrameBytes, 65536);
      assert.equal(cu.minGap, CATCHUP_DEFAULTS.minGap, 'a 0 means the default');
      assert.equal(cu.verifyWorkers, 3);
      assert.equal(cu.unsupportedTtlMs, 60_000);
    } finally {
      t.cleanup();
    }
  });

  it('a bad value or an unknown key under grapevine.catchup is an error naming it', () => {
    assert.throws(
      () => loadWith({ 'grapevine.catchup.idleTimeout': 'soon' }),
      (e: unknown) => e instanceof GrapevineError && /grapevine\.catchup\.idleTimeout/.test(e.message),
    );
    const t = tempDir({
      'core.yaml': `peer:\n  address: ${ADDR['peer.address']}\ngrapevine:\n  catchup:\n    idleTimeot: 3s\n`,
    });
    try {
      assert.throws(
        () => load({ file: t.path('core.yaml') }),
        (e: unknown) => e instanceof GrapevineError && /grapevine\.catchup\.idleTimeot/i.test(e.message),
      );
    } finally {
      t.cleanup();
    }
  });
});
