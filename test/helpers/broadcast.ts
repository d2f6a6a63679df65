/**
 * A test Broadcast client: one orderer.AtomicBroadcast/Broadcast stream to `address` that writes
 * every envelope and resolves with the statuses answered, once there is one per envelope or the
 * stream ends (error or status included: then fewer).
 */
import * as grpc from '@grpc/grpc-js';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { decode } from '../../src/wire/codec.js';
import { BroadcastResponseSchema } from '../../src/wire/gen/orderer/ab_pb.js';

export async function broadcastAll(
  address: string,
  creds: grpc.ChannelCredentials,
  envs: readonly Uint8Array[],
  options: grpc.ChannelOptions = {},
): Promise<number[]> {
  const client = new grpc.Client(address, creds, options);
  try {
    const m = RawAtomicBroadcastService.Broadcast;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const out: number[] = [];
    const done = new Promise<void>((resolve) => {
      call.on('data', (b: Buffer) => {
        out.push(decode(BroadcastResponseSchema, b).status);
        if (out.length === envs.length) {
          call.end();
          resolve();
        }
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
      call.on('status', () => resolve());
    });
    for (const e of envs) call.write(Buffer.from(e));
    await done;
    return out;
  } finally {
    client.close();
  }
}
