import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ValueError,
  formatGoDuration,
  parseByteSize,
  parseGoDuration,
  toBool,
  toDurationNs,
  toUint32,
} from '../../src/configtx/scalars.js';

test('byte sizes as configtxgen reads them (binary units, optional B, any case)', () => {
  assert.equal(toUint32('10 MB'), 10 * 1024 * 1024);
  assert.equal(toUint32('2 MB'), 2 * 1024 * 1024);
  assert.equal(toUint32('512k'), 512 * 1024);
  assert.equal(toUint32('1Gb'), 1 << 30);
  assert.equal(toUint32('98'), 98);
  assert.equal(toUint32('0x10'), 16);
  assert.equal(toUint32(7050n), 7050);
  assert.equal(parseByteSize('10 TB'), undefined);
  for (const bad of ['10 TB', '10 MiB', 'ten', '-1', '4 G', '1.5 MB'])
    assert.throws(() => toUint32(bad), ValueError, bad);
  assert.throws(() => toUint32(2n ** 32n), /overflows uint32/);
  assert.equal(toUint32('3 G'), 3 * 2 ** 30);
});

test('Go durations: parse and print as time.Duration does', () => {
  const cases: [string, bigint, string][] = [
    ['1s', 1_000_000_000n, '1s'],
    ['2s', 2_000_000_000n, '2s'],
    ['500ms', 500_000_000n, '500ms'],
    ['1.5s', 1_500_000_000n, '1.5s'],
    ['90s', 90_000_000_000n, '1m30s'],
    ['1h', 3_600_000_000_000n, '1h0m0s'],
    ['1h2m3.004s', 3_723_004_000_000n, '1h2m3.004s'],
    ['1500us', 1_500_000n, '1.5ms'],
    ['1µs', 1_000n, '1µs'],
    ['999ns', 999n, '999ns'],
    ['0', 0n, '0s'],
    ['-2s', -2_000_000_000n, '-2s'],
  ];
  for (const [text, ns, printed] of cases) {
    assert.equal(parseGoDuration(text), ns, text);
    assert.equal(formatGoDuration(ns), printed, text);
  }
  for (const bad of ['', '1', 's', '1x', '1.s.', '--1s', '1 s'])
    assert.throws(() => parseGoDuration(bad), ValueError, bad);
  assert.equal(toDurationNs(2n), 2n); // a bare integer is nanoseconds, as in Go
});

test('formatGoDuration output parses back to the same duration', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n) + 1n, max: 2n ** 63n - 1n }), (ns) => {
      assert.equal(parseGoDuration(formatGoDuration(ns)), ns);
    }),
    { numRuns: 2000 },
  );
});

test('booleans take strconv.ParseBool spellings', () => {
  assert.equal(toBool(true), true);
  assert.equal(toBool('True'), true);
  assert.equal(toBool('f'), false);
  assert.throws(() => toBool('yes please'), ValueError);
});
