import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJson, goString, goTimestamp } from '../../src/blockjson/index.js';

test('formatJson prints as Go encoding/json with a tab indent: sorted keys, {} and [], final newline', () => {
  const text = formatJson({ b: 1, a: [], c: {}, d: [1, 'x', { z: true, y: null }], e: null });
  assert.equal(
    text,
    '{\n\t"a": [],\n\t"b": 1,\n\t"c": {},\n\t"d": [\n\t\t1,\n\t\t"x",\n\t\t{\n\t\t\t"y": null,\n\t\t\t"z": true\n\t\t}\n\t],\n\t"e": null\n}\n',
  );
  // Bytewise key order, as Go's sort.Strings: upper case, then '_', then lower case.
  assert.deepEqual(Object.keys(JSON.parse(formatJson({ a: 1, _: 2, Z: 3, TransientMap: 4 }))), [
    'TransientMap',
    'Z',
    '_',
    'a',
  ]);
  assert.equal(formatJson([]), '[]\n');
});

test('goString escapes as Go: HTML characters, line separators, control characters', () => {
  assert.equal(goString('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
  assert.equal(goString('q"\\'), '"q\\"\\\\"');
  assert.equal(goString('\n\r\t'), '"\\n\\r\\t"');
  assert.equal(goString('\u0001\b\f\u001f'), '"\\u0001\\u0008\\u000c\\u001f"');
  assert.equal(goString('\u2028\u2029'), '"\\u2028\\u2029"');
  assert.equal(goString('é→🙂'), '"é→🙂"');
  assert.equal(goString('+/='), '"+/="');
});

test('goTimestamp prints as Go jsonpb: 0/3/6/9 fractional digits, any year, bad nanos refused', () => {
  assert.equal(goTimestamp(0n, 0), '1970-01-01T00:00:00Z');
  assert.equal(goTimestamp(1n, 5_000_000), '1970-01-01T00:00:01.005Z');
  assert.equal(goTimestamp(1_700_000_000n, 123_456_000), '2023-11-14T22:13:20.123456Z');
  assert.equal(goTimestamp(1_700_000_000n, 123_456_789), '2023-11-14T22:13:20.123456789Z');
  assert.equal(goTimestamp(-1n, 0), '1969-12-31T23:59:59Z');
  assert.equal(goTimestamp(951_782_400n, 0), '2000-02-29T00:00:00Z');
  assert.equal(goTimestamp(-62_135_596_800n, 0), '0001-01-01T00:00:00Z');
  assert.equal(goTimestamp(-62_135_596_801n, 0), '0000-12-31T23:59:59Z');
  assert.equal(goTimestamp(253_402_300_800n, 0), '10000-01-01T00:00:00Z');
  assert.equal(goTimestamp(-63_072_000_000n, 0), '-0029-05-01T00:00:00Z');
  assert.equal(goTimestamp(0n, -1), undefined);
  assert.equal(goTimestamp(0n, 1e9), undefined);
  // Agrees with Date for the years Date and protobuf-es accept.
  for (const s of [0n, 86_399n, 1_234_567_890n, 4_102_444_800n, -2_208_988_800n]) {
    assert.equal(goTimestamp(s, 0), new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z'));
  }
});
