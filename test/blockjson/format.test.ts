import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJson, goString } from '../../src/blockjson/index.js';

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
