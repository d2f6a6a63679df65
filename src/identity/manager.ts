/** A set of MSPs by ID; deserializes an identity with the MSP its SerializedIdentity names. */
import { ConfigError, VerifyError } from '../base/errors.js';
import type { Msp, MspIdentity, MspManager } from './types.js';
import { parseSerializedIdentity } from './x509identity.js';

export function createMspManager(msps: Iterable<Msp>): MspManager {
  const map = new Map<string, Msp>();
  for (const m of msps) {
    if (map.has(m.id)) throw new ConfigError('DUPLICATE_MSP', `MSP ID ${m.id} appears twice`);
    map.set(m.id, m);
  }
  return {
    msps: map,
    deserialize(serialized: Uint8Array): { msp: Msp; identity: MspIdentity } {
      const { mspId } = parseSerializedIdentity(serialized);
      const msp = map.get(mspId);
      if (!msp) throw new VerifyError('UNKNOWN_IDENTITY', `MSP ${JSON.stringify(mspId)} is unknown`);
      return { msp, identity: msp.deserialize(serialized) };
    },
  };
}
