/**
 * A small orderer client for tools (the CLI's `channel update` / `channel anchor-peers`):
 *   broadcast(env): one Broadcast stream, one envelope, its BroadcastResponse;
 *   fetchBlock(channel, seek, signer): one Deliver stream with SeekInfo start = stop = seek,
 *     FAIL_IF_NOT_READY, signed by `signer`: the block, or OrdererClientError naming the status;
 *   fetchConfigBlock(channel, signer): the newest block, then the block its LAST_CONFIG names.
 * Every call is bounded by `timeoutMs` (deadline on the gRPC call).
 */
import * as grpc from '@grpc/grpc-js';
import { GrapevineError, errorMessage } from '../base/errors.js';
import { RawAtomicBroadcastService } from '../comm/deliver/frames.js';
import { sslCredentials, tlsTargetOptions } from '../comm/tls.js';
import { parseDeliverResponse } from '../wire/deliver-frames.js';
import { blockLastConfigIndex, decodeBlock } from '../wire/block.js';
import { decode, encode } from '../wire/codec.js';
import {
  EnvelopeSchema,
  HeaderType,
  Status,
  type Block,
  type Envelope,
} from '../wire/gen/common/common_pb.js';
import { BroadcastResponseSchema, type SeekPosition } from '../wire/gen/orderer/ab_pb.js';
import { encodeSeekInfo, seekNewest, seekSpecified, SeekBehavior, signedEnvelope } from '../wire/orderer.js';
import { MAX_MESSAGE_BYTES } from '../wire/services.js';
import type { Signer } from '../wire/signer.js';

export class OrdererClientError extends GrapevineError {}

export interface OrdererClientOptions {
  /** host:port */
  readonly address: string;
  /** PEM of the orderer's TLS CA; absent: plaintext. */
  readonly tlsCa?: Uint8Array;
  /** TLS server name override (the certificate's SAN), e.g. "orderer.example.com". */
  readonly serverName?: string;
  readonly timeoutMs?: number;
}

export class OrdererClient {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;

  constructor(private readonly o: OrdererClientOptions) {
    const creds = o.tlsCa ? sslCredentials(Buffer.from(o.tlsCa)) : grpc.credentials.createInsecure();
    this.client = new grpc.Client(o.address, creds, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      ...(o.serverName
        ? { 'grpc.ssl_target_name_override': o.serverName }
        : o.tlsCa
          ? tlsTargetOptions(o.address)
          : {}),
    });
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  close(): void {
    this.client.close();
  }

  private call(method: 'Broadcast' | 'Deliver'): grpc.ClientDuplexStream<Buffer, Buffer> {
    const m = RawAtomicBroadcastService[method];
    return this.client.makeBidiStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      new grpc.Metadata(),
      {
        deadline: Date.now() + this.timeoutMs,
      },
    );
  }

  private unreachable(e: unknown): OrdererClientError {
    return new OrdererClientError('ORDERER_UNREACHABLE', `orderer ${this.o.address}: ${errorMessage(e)}`, {
      cause: e,
    });
  }

  /** Submit one envelope; resolves with the orderer's answer. */
  broadcast(env: Envelope): Promise<{ status: Status; info: string }> {
    return new Promise((resolve, reject) => {
      const call = this.call('Broadcast');
      let done = false;
      call.on('data', (b: Buffer) => {
        if (done) return;
        done = true;
        try {
          const r = decode(BroadcastResponseSchema, b, 'orderer.BroadcastResponse');
          resolve({ status: r.status, info: r.info });
        } catch (e) {
          reject(this.unreachable(e));
        }
        call.end();
      });
      call.on('error', (e) => {
        if (!done) reject(this.unreachable(e));
        done = true;
      });
      call.on('end', () => {
        if (!done) reject(this.unreachable(new Error('stream ended without a response')));
        done = true;
      });
      call.write(Buffer.from(encode(EnvelopeSchema, env)));
    });
  }

  /** The block at `seek` (newest or a number). */
  fetchBlock(channelId: string, seek: SeekPosition['Type'], signer: Signer): Promise<Block> {
    const env = signedEnvelope(
      {
        type: HeaderType.DELIVER_SEEK_INFO,
        channelId,
        data: encodeSeekInfo({ start: seek, stop: seek, behavior: SeekBehavior.FAIL_IF_NOT_READY }),
        nowMs: Date.now(),
      },
      signer,
    );
    return new Promise((resolve, reject) => {
      const call = this.call('Deliver');
      let block: Block | undefined;
      let settled = false;
      const settle = (f: () => void): void => {
        if (!settled) f();
        settled = true;
      };
      call.on('data', (b: Buffer) => {
        try {
          const r = parseDeliverResponse(b);
          if (r.case === 'block') block = decodeBlock(r.block);
          else if (r.case === 'status') {
            call.end();
            settle(() =>
              r.status === Status.SUCCESS && block
                ? resolve(block)
                : reject(
                    new OrdererClientError(
                      'DELIVER_STATUS',
                      `orderer ${this.o.address}: deliver for channel ${channelId} answered ${Status[r.status] ?? r.status}`,
                    ),
                  ),
            );
          }
        } catch (e) {
          settle(() => reject(this.unreachable(e)));
        }
      });
      call.on('error', (e) => settle(() => reject(this.unreachable(e))));
      call.on('end', () =>
        settle(() => reject(this.unreachable(new Error('stream ended without a status')))),
      );
      call.write(Buffer.from(encode(EnvelopeSchema, env)));
    });
  }

  /** The channel's current config block (newest block -> its LAST_CONFIG index -> that block). */
  async fetchConfigBlock(channelId: string, signer: Signer): Promise<Block> {
    const newest = await this.fetchBlock(channelId, seekNewest(), signer);
    const index = blockLastConfigIndex(newest) ?? 0n;
    if (index === newest.header?.number) return newest;
    return this.fetchBlock(channelId, seekSpecified(index), signer);
  }
}
