/**
 * Decoding untrusted bytes: every decoder here returns a typed WireError instead of
 * throwing whatever protobuf-es throws, so a malformed network message never escapes
 * the component that received it.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { WireError } from '../base/errors.js';

export function decode<D extends DescMessage>(schema: D, bytes: Uint8Array, what?: string): MessageShape<D> {
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    throw new WireError('MALFORMED', `malformed ${what ?? schema.typeName}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export function encode<D extends DescMessage>(
  schema: D,
  msg: MessageShape<D> | MessageInitShape<D>,
): Uint8Array {
  return toBinary(schema, create(schema, msg as MessageInitShape<D>));
}

export { create, fromBinary, toBinary };
