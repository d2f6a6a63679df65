/**
 * A steady stream of transactions for the local network: ENDORSER_TRANSACTION envelopes signed
 * by User1 of org1 (a protos.Transaction with one chaincode action, tx ID = SHA-256(nonce ||
 * creator) as Fabric computes it), sent on one Broadcast stream over TLS at `rate` per second.
 * A broken stream is reopened after a pause; statuses are counted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { RawAtomicBroadcastService } from '../comm/deliver/frames.js';
import { loadSigningIdentity } from '../identity/index.js';
import { decode, encode } from '../wire/codec.js';
import { EnvelopeSchema, HeaderType, SignatureHeaderSchema } from '../wire/gen/common/common_pb.js';
import { BroadcastResponseSchema } from '../wire/gen/orderer/ab_pb.js';
import { ChaincodeInvocationSpecSchema } from '../wire/gen/peer/chaincode_pb.js';
import { ChaincodeActionSchema, ChaincodeProposalPayloadSchema } from '../wire/gen/peer/proposal_pb.js';
import { ProposalResponsePayloadSchema } from '../wire/gen/peer/proposal_response_pb.js';
import { ChaincodeActionPayloadSchema, TransactionSchema } from '../wire/gen/peer/transaction_pb.js';
import { signedEnvelope } from '../wire/orderer.js';
import type { Signer } from '../wire/signer.js';

export interface SubmitterOptions {
  readonly address: string;
  /** PEM of the orderer's TLS CA. */
  readonly tlsCaFile: string;
  readonly userMspDir: string;
  readonly mspId: string;
  readonly channel: string;
  /** Transactions per second. */
  readonly rate: number;
}

export interface SubmitterStats {
  sent: number;
  accepted: number;
  refused: number;
  streamErrors: number;
  lastError?: string;
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** One signed ENDORSER_TRANSACTION envelope (encoded). */
export function demoTransaction(
  signer: Signer,
  channel: string,
  n: number,
  nowMs = Date.now(),
): { txId: string; bytes: Uint8Array } {
  const nonce = new Uint8Array(randomBytes(24));
  const creator = signer.serializedIdentity;
  const txId = sha256(nonce, creator).toString('hex');
  const chaincodeId = { name: 'grapevine-demo', version: '1.0' };
  const input = encode(ChaincodeInvocationSpecSchema, {
    chaincodeSpec: {
      type: 1,
      chaincodeId,
      input: {
        args: [
          new TextEncoder().encode('put'),
          new TextEncoder().encode(`key${n}`),
          new TextEncoder().encode(String(nowMs)),
        ],
      },
    },
  });
  const proposalPayload = encode(ChaincodeProposalPayloadSchema, { input });
  const action = encode(ChaincodeActionSchema, {
    results: new TextEncoder().encode(`key${n}=${nowMs}`),
    chaincodeId,
  });
  const prp = encode(ProposalResponsePayloadSchema, {
    proposalHash: sha256(proposalPayload),
    extension: action,
  });
  const cap = encode(ChaincodeActionPayloadSchema, {
    chaincodeProposalPayload: proposalPayload,
    action: { proposalResponsePayload: prp, endorsements: [] },
  });
  const header = encode(SignatureHeaderSchema, { creator, nonce });
  const data = encode(TransactionSchema, { actions: [{ header, payload: cap }] });
  const env = signedEnvelope(
    {
      type: HeaderType.ENDORSER_TRANSACTION,
      channelId: channel,
      data,
      nowMs,
      txId,
      nonce,
      preciseTimestamp: true,
    },
    signer,
  );
  return { txId, bytes: encode(EnvelopeSchema, env) };
}

export class Submitter {
  readonly stats: SubmitterStats = { sent: 0, accepted: 0, refused: 0, streamErrors: 0 };
  private readonly signer: Signer;
  private readonly client: grpc.Client;
  private call?: grpc.ClientDuplexStream<Buffer, Buffer>;
  private timer?: NodeJS.Timeout;
  private n = 0;
  private pausedUntil = 0;
  private stopped = false;

  constructor(private readonly o: SubmitterOptions) {
    this.signer = loadSigningIdentity(o.userMspDir, o.mspId, { now: new Date() }).signer;
    // the orderer's certificate names localhost too; an IP address as TLS server name is deprecated in Node
    this.client = new grpc.Client(o.address, grpc.credentials.createSsl(readFileSync(o.tlsCaFile)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
  }

  start(): void {
    const every = Math.max(1, Math.round(1000 / Math.max(0.1, this.o.rate)));
    this.timer = setInterval(() => this.tick(), every);
  }

  private stream(): grpc.ClientDuplexStream<Buffer, Buffer> {
    if (this.call) return this.call;
    const m = RawAtomicBroadcastService.Broadcast;
    const call = this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    call.on('data', (b: Buffer) => {
      try {
        const status = decode(BroadcastResponseSchema, b).status;
        if (status === 200) this.stats.accepted++;
        else this.stats.refused++;
      } catch {
        this.stats.refused++;
      }
    });
    const broken = (why: string) => {
      if (this.call !== call) return;
      this.call = undefined;
      if (this.stopped) return;
      this.stats.streamErrors++;
      this.stats.lastError = why;
      this.pausedUntil = Date.now() + 1000;
    };
    call.on('error', (e: Error) => broken(e.message));
    call.on('end', () => broken('stream ended'));
    this.call = call;
    return call;
  }

  private tick(): void {
    if (this.stopped || Date.now() < this.pausedUntil) return;
    const tx = demoTransaction(this.signer, this.o.channel, this.n++);
    this.stream().write(Buffer.from(tx.bytes));
    this.stats.sent++;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.call?.end();
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }
}
