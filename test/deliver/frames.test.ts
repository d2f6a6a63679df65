import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import { GrapevineError } from '../../src/base/errors.js';
import {
  deliverBlockFrame,
  deliverStatusFrame,
  parseDeliverResponse,
} from '../../src/wire/deliver-frames.js';
import { BlockSchema, Status } from '../../src/wire/gen/common/common_pb.js';
import { DeliverResponseSchema } from '../../src/wire/gen/orderer/ab_pb.js';

test('hand-made frames equal protobuf encodings of DeliverResponse', () => {
  const block = toBinary(
    BlockSchema,
    create(BlockSchema, { header: { number: 300n }, data: { data: [new Uint8Array(200)] } }),
  );
  const viaPb = toBinary(
    DeliverResponseSchema,
    create(DeliverResponseSchema, {
      Type: {
        case: 'block',
        value: create(BlockSchema, { header: { number: 300n }, data: { data: [new Uint8Array(200)] } }),
      },
    }),
  );
  assert.deepEqual(Buffer.from(deliverBlockFrame(block)), Buffer.from(viaPb));
  for (const st of [Status.SUCCESS, Status.NOT_FOUND, Status.BAD_REQUEST, Status.UNKNOWN]) {
    const pb = toBinary(
      DeliverResponseSchema,
      create(DeliverResponseSchema, { Type: { case: 'status', value: st } }),
    );
    // proto3 writes an explicitly set oneof enum even when 0
    assert.deepEqual(Buffer.from(deliverStatusFrame(st)), Buffer.from(pb), `status ${st}`);
  }
});

test('parse: block bytes are a view of the frame; status; unknown fields skipped', () => {
  const block = new Uint8Array([1, 2, 3]);
  const r = parseDeliverResponse(deliverBlockFrame(block));
  assert.equal(r.case, 'block');
  if (r.case === 'block') assert.deepEqual([...r.block], [1, 2, 3]);
  assert.deepEqual(parseDeliverResponse(deliverStatusFrame(404)), { case: 'status', status: 404 });
  assert.deepEqual(parseDeliverResponse(new Uint8Array([0x18, 0x05])), { case: 'unknown' });
  assert.throws(() => parseDeliverResponse(new Uint8Array([0x12, 0x05, 1])), { code: 'MALFORMED' });
});

test('parse never throws anything but a typed error on arbitrary bytes, and parses every frame we make', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        parseDeliverResponse(bytes);
      } catch (e) {
        assert.ok(e instanceof GrapevineError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: 0, max: 600 }).map((s) => deliverStatusFrame(s)),
        fc.uint8Array({ maxLength: 40 }).map((b) => deliverBlockFrame(b)),
      ),
      (frame) => {
        const r = parseDeliverResponse(frame);
        assert.notEqual(r.case, 'unknown');
      },
    ),
  );
});
