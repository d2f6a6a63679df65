import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelTag, decodeStreamMarker, encodeStreamMarker } from '../../src/core/stream/marker.js';

test('the marker round-trips channel roles and names no channel', () => {
  const bytes = encodeStreamMarker(
    new Map([
      ['mychannel', 'leader'],
      ['other', 'source'],
    ]),
  );
  assert.equal(bytes.length, 3 + 10);
  assert.ok(!Buffer.from(bytes).includes(Buffer.from('mychannel')));
  const m = decodeStreamMarker(bytes)!;
  assert.equal(m.get(channelTag('mychannel')), 'leader');
  assert.equal(m.get(channelTag('other')), 'source');
  assert.equal(m.get(channelTag('third')), undefined);
  assert.deepEqual([...decodeStreamMarker(encodeStreamMarker(new Map()))!], []);
});

test("Fabric's empty metadata and foreign bytes are not a streaming peer", () => {
  assert.equal(decodeStreamMarker(new Uint8Array(0)), undefined);
  assert.equal(decodeStreamMarker(Uint8Array.of(0x47, 0x56, 0x02)), undefined);
  assert.equal(decodeStreamMarker(Uint8Array.of(0x47, 0x56, 0x01, 1, 2)), undefined);
  assert.equal(decodeStreamMarker(new TextEncoder().encode('hello')), undefined);
});
