import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelTag, decodeStreamMarker, encodeStreamMarker } from '../../src/core/stream/marker.js';

test('the marker round-trips channel roles and heights and names no channel', () => {
  const bytes = encodeStreamMarker(
    new Map([
      ['mychannel', { role: 'leader' as const, height: 1_000_000n }],
      ['other', { role: 'source' as const, height: 7n }],
      ['quiet', { role: undefined, height: 2n ** 63n }],
    ]),
  );
  assert.equal(bytes.length, 3 + 3 * 13);
  assert.ok(!Buffer.from(bytes).includes(Buffer.from('mychannel')));
  const m = decodeStreamMarker(bytes)!;
  assert.deepEqual(m.get(channelTag('mychannel')), { role: 'leader', height: 1_000_000n });
  assert.deepEqual(m.get(channelTag('other')), { role: 'source', height: 7n });
  assert.deepEqual(m.get(channelTag('quiet')), { role: undefined, height: 2n ** 63n });
  assert.equal(m.get(channelTag('third')), undefined);
  assert.deepEqual([...decodeStreamMarker(encodeStreamMarker(new Map()))!], []);
});

test("Fabric's empty metadata and foreign bytes are not a streaming peer", () => {
  assert.equal(decodeStreamMarker(new Uint8Array(0)), undefined);
  assert.equal(decodeStreamMarker(Uint8Array.of(0x47, 0x56, 0x03)), undefined);
  assert.equal(decodeStreamMarker(Uint8Array.of(0x47, 0x56, 0x02, 1, 2)), undefined);
  assert.equal(
    decodeStreamMarker(Uint8Array.of(0x47, 0x56, 0x01, 1, 2, 3, 4, 1)),
    undefined,
    'the old format',
  );
  assert.equal(decodeStreamMarker(new TextEncoder().encode('hello')), undefined);
});

test("alive messages carry no metadata unless streams set it: Fabric's bytes exactly", async () => {
  const { SelfAlive } = await import('../../src/core/discovery/self.js');
  const { VirtualClock } = await import('../../src/sim/clock.js');
  const { openEnvelope } = await import('../../src/wire/gossip.js');
  const signer = { serializedIdentity: Uint8Array.of(1), sign: () => Uint8Array.of(2) };
  const self = new SelfAlive({
    pkiId: Uint8Array.of(7),
    signer,
    externalEndpoint: 'p:7051',
    internalEndpoint: 'p:7051',
    publishCertPeriodMs: 0,
    clock: new VirtualClock(),
  });
  const membership = (e: ReturnType<typeof self.build>) => {
    const m = openEnvelope(e).message;
    assert.equal(m.content.case, 'aliveMsg');
    return m.content.case === 'aliveMsg' ? m.content.value.membership! : undefined;
  };
  const plain = self.build(false);
  assert.equal(membership(plain)!.metadata.length, 0);
  self.metadata = encodeStreamMarker(new Map([['ch', { role: 'source' as const, height: 5n }]]));
  const marked = membership(self.build(false))!;
  assert.equal(decodeStreamMarker(marked.metadata)!.get(channelTag('ch'))!.role, 'source');
  // the marker is the only difference: field 2 of Member, the rest as before
  assert.ok(self.build(false).payload.length > plain.payload.length);
});
