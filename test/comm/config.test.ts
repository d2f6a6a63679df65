/** CommConfig: Fabric's defaults, 0 = default, bad values named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FABRIC_COMM_DEFAULTS, commConfig } from '../../src/core/link/comm-config.js';

test('comm config: Fabric defaults and overrides', () => {
  const d = commConfig();
  assert.equal(d.dialTimeoutMs, 3000);
  assert.equal(d.connTimeoutMs, 2000);
  assert.equal(d.sendBuffSize, 20);
  assert.equal(d.recvBuffSize, 20);
  assert.equal(d.maxRecvMsgSize, 100 * 1024 * 1024);
  assert.equal(d.clientKeepaliveIntervalMs, 60_000);
  assert.equal(d.serverKeepaliveIntervalMs, 7_200_000);
  assert.equal(d.clientAuthRequired, false);
  assert.equal(commConfig({ sendBuffSize: 200 }).sendBuffSize, 200);
  assert.equal(
    commConfig({ sendBuffSize: 0 }).sendBuffSize,
    FABRIC_COMM_DEFAULTS.sendBuffSize,
    '0 means the default',
  );
  assert.throws(() => commConfig({ sendBuffSize: -1 }), /sendBuffSize/);
  assert.throws(() => commConfig({ dialTimeoutMs: 1.5 }), /dialTimeoutMs/);
  assert.throws(() => commConfig({ clientKeepaliveIntervalMs: 10_000 }), /60000/);
  assert.throws(() => commConfig({ clientAuthRequired: 1 as unknown as boolean }), /clientAuthRequired/);
  assert.throws(() => commConfig({ bogus: 1 } as never), /unknown key bogus/);
});
