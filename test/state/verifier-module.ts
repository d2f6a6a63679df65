/**
 * A catch-up verifier module for worker threads (src/state/verify/pool.ts), used by tests and
 * bench/catchup.bench.ts: inside the worker it builds a MessageCryptoService (the production
 * §2.8 verifyBlock, ECDSA through node:crypto) over the orgs' and the orderer's real MSPs, with
 * /Channel/Orderer/BlockValidation = "some signature by a valid OrdererMSP member verifies"
 * (what ImplicitMeta ANY Writers over a single orderer org comes to) and
 * /Channel/Application/Readers = "every signature by a valid member of a channel org verifies".
 * The bench also uses it on the main thread as the StateCrypto of both peers.
 * init.rejectSeqs: block numbers refused as if they failed verification (tests of the bad-block
 * path through the workers); init.crashOnSeq: the worker exits when it sees this block;
 * init.holdOnSeq + init.hold: the worker waits at this block until the test releases it.
 */
import { VerifyError } from '../../src/base/errors.js';
import {
  MessageCryptoService,
  createMspManager,
  type ChannelCryptoContext,
} from '../../src/identity/index.js';
import type { LocalIdentity, PolicyEvaluator, SignedData } from '../../src/identity/types.js';
import { BLOCK_VALIDATION_POLICY, READERS_POLICY } from '../../src/identity/mcs.js';
import { mcsSegments } from '../../src/service/verify/mcs-verifier.js';
import type { WorkerBlockVerifier, WorkerSegmentVerifier } from '../../src/service/verify/worker.js';
import type { Block } from '../../src/wire/gen/common/common_pb.js';
import { orgMsp } from '../comm/fixtures.js';
import { ordererMsp } from '../net/state-fixtures.js';

export interface TestVerifierInit {
  readonly root: string;
  readonly channel: string;
  readonly channelOrgs: readonly number[];
  readonly allOrgs: readonly number[];
  readonly rejectSeqs?: readonly string[];
  readonly crashOnSeq?: string;
  /** The worker blocks on this block until hold[0] (Int32) is set non-zero and notified. */
  readonly holdOnSeq?: string;
  readonly hold?: SharedArrayBuffer;
}

/** A local identity that is never used by verifyBlock (any use fails). */
function unusedLocal(): LocalIdentity {
  const fail = (): never => {
    throw new VerifyError('NO_LOCAL_IDENTITY', 'the test block verifier has no local identity');
  };
  const msp = { id: '\u0000none', deserialize: fail, validate: fail, roleOf: fail, satisfiesPrincipal: fail };
  return {
    signer: { sign: fail, serializedIdentity: new Uint8Array() },
    msp,
    identity: undefined,
  } as unknown as LocalIdentity;
}

export function testMcs(
  init: Pick<TestVerifierInit, 'root' | 'channel' | 'channelOrgs'> & { allOrgs?: readonly number[] },
): MessageCryptoService {
  const orderer = ordererMsp(init.root);
  const msps = createMspManager([
    ...(init.allOrgs ?? init.channelOrgs).map((o) => orgMsp(init.root, o)),
    orderer,
  ]);
  const ordererOnly = new Set([orderer.id]);
  const channelMsps = new Set(init.channelOrgs.map((o) => `Org${o}MSP`));
  const signedBy = (s: SignedData, mspIds: ReadonlySet<string>, now?: Date): boolean => {
    try {
      const { msp, identity } = msps.deserialize(s.identity);
      if (!mspIds.has(msp.id)) return false;
      msp.validate(identity, now ?? new Date());
      return identity.verify(s.data, s.signature);
    } catch {
      return false;
    }
  };
  const policies: PolicyEvaluator = {
    evaluate(path, signed, now) {
      const ok =
        path === BLOCK_VALIDATION_POLICY
          ? signed.some((s) => signedBy(s, ordererOnly, now))
          : path === READERS_POLICY &&
            signed.length > 0 &&
            signed.every((s) => signedBy(s, channelMsps, now));
      if (!ok) throw new VerifyError('POLICY', `policy ${path} is not satisfied`);
    },
  };
  const ctx: ChannelCryptoContext = { channelId: init.channel, msps, policies };
  return new MessageCryptoService(
    unusedLocal(),
    {
      get: (id) => (id === init.channel ? ctx : undefined),
      all: () => [ctx],
    },
    () => new Date(),
  );
}

export function createBlockVerifier(init: TestVerifierInit): WorkerBlockVerifier {
  const mcs = testMcs(init);
  const reject = new Set(init.rejectSeqs ?? []);
  const refuse = (seq: bigint): void => {
    if (init.crashOnSeq === String(seq)) process.exit(3);
    if (init.hold && init.holdOnSeq === String(seq)) Atomics.wait(new Int32Array(init.hold), 0, 0);
    if (reject.has(String(seq))) throw new VerifyError('POLICY', `test verifier refuses block ${seq}`);
  };
  const segments = mcsSegments(mcs, init.channel, () => undefined);
  return {
    checksDataHash: true,
    verifyBlock(channel: string, seq: bigint, block: Block): void {
      refuse(seq);
      mcs.verifyBlock(channel, seq, block);
    },
    segments: {
      ...segments,
      checkContent(channel, seq, block) {
        refuse(seq);
        return segments.checkContent(channel, seq, block);
      },
    } as WorkerSegmentVerifier<unknown, unknown>,
  };
}

export const TEST_VERIFIER_MODULE = new URL('./verifier-module.ts', import.meta.url).href;
