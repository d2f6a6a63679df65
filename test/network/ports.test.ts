/**
 * Ports of a `network up` layout (network/layout.ts freePort): free when handed out, and below the
 * kernel's ephemeral range, so that no outgoing connection can take a peer's port while the peer
 * is down (a restart then failed with EADDRINUSE, seen in CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ephemeralPortRange, freePort, portFree } from '../../src/network/layout.js';

test('the ephemeral range is read from the kernel, with the default where unreadable', () => {
  assert.deepEqual(
    ephemeralPortRange(() => '32768\t60999\n'),
    [32768, 60999],
  );
  assert.deepEqual(
    ephemeralPortRange(() => '1024 65535'),
    [1024, 65535],
  );
  assert.deepEqual(
    ephemeralPortRange(() => 'junk'),
    [32768, 60999],
  );
  assert.deepEqual(
    ephemeralPortRange(() => {
      throw new Error('ENOENT');
    }),
    [32768, 60999],
  );
});

test('freePort: free, bindable, below the ephemeral range, and not the same twice in a row', async () => {
  const [lo] = ephemeralPortRange();
  const ports = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(await portFree(port), `${port} is free`);
    if (lo > 11_000)
      assert.ok(port >= 10_000 && port < lo, `${port} is below the ephemeral range from ${lo}`);
    ports.add(port);
  }
  assert.ok(ports.size > 15, 'spread over the range');
});
