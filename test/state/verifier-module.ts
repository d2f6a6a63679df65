/**
 * A catch-up verifier module for worker threads (src/state/verify/pool.ts), used by tests and
 * bench/catchup.bench.ts: inside the worker it builds the same StateCrypto as
 * mspStateCrypto(root, channel, channelOrgs, allOrgs) (real MSPs, §2.8 block checks, ECDSA).
 * init.rejectSeqs: block numbers refused as if they failed verification (tests of the bad-block
 * path through the workers); init.crashOnSeq: the worker exits when it sees this block.
 */
import { VerifyError } from '../../src/errors.js';
import type { WorkerBlockVerifier } from '../../src/state/verify/worker.js';
import type { Block } from '../../src/wire/gen/common/common_pb.js';
import { mspStateCrypto } from '../net/state-fixtures.js';

export interface TestVerifierInit {
  readonly root: string;
  readonly channel: string;
  readonly channelOrgs: readonly number[];
  readonly allOrgs: readonly number[];
  readonly rejectSeqs?: readonly string[];
  readonly crashOnSeq?: string;
}

export function createBlockVerifier(init: TestVerifierInit): WorkerBlockVerifier {
  const crypto = mspStateCrypto(init.root, init.channel, init.channelOrgs, init.allOrgs);
  const reject = new Set(init.rejectSeqs ?? []);
  return {
    checksDataHash: true,
    verifyBlock(channel: string, seq: bigint, block: Block): void {
      if (init.crashOnSeq === String(seq)) process.exit(3);
      if (reject.has(String(seq))) throw new VerifyError('POLICY', `test verifier refuses block ${seq}`);
      crypto.verifyBlock(channel, seq, block);
    },
  };
}

export const TEST_VERIFIER_MODULE = new URL('./verifier-module.ts', import.meta.url).href;
