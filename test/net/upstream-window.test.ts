/**
 * A block stream's HTTP/2 receive window (grapevine.streams.receiveWindow, GrpcUpstreamConnector)
 * over a real socket: an upstream may send that many bytes ahead of a follower that reads
 * nothing, and no more. The server here writes 64 KiB frames until its writes stop draining
 * (counted as written once its stream takes them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcUpstreamConnector } from '../../src/comm/deliver/grpc.js';
import { RawAtomicBroadcastService } from '../../src/comm/deliver/index.js';
import { resolveDeliverConfig } from '../../src/core/deliver/index.js';
import { STREAM_DEFAULTS } from '../../src/core/stream/config.js';

const FRAME = 64 * 1024;

/** Bytes the server got written before the stream stopped draining, for a follower with `window`. */
async function bytesAhead(window: number | undefined): Promise<number> {
  const server = new grpc.Server();
  let written = 0;
  let settled: (n: number) => void;
  const result = new Promise<number>((r) => (settled = r));
  server.addService(RawAtomicBroadcastService, {
    Deliver: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.once('data', () => {
        const frame = Buffer.alloc(FRAME, 7);
        const pump = (): void => {
          // at most 64 MiB: the loop ends by itself whatever the window
          while (written < 64 * 1024 * 1024) {
            written += FRAME;
            if (!call.write(frame)) {
              const stalled = setTimeout(() => settled(written), 500);
              call.once('drain', () => {
                clearTimeout(stalled);
                pump();
              });
              return;
            }
          }
          settled(written);
        };
        pump();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const connector =
    window === undefined
      ? new GrpcUpstreamConnector(resolveDeliverConfig({}), undefined)
      : new GrpcUpstreamConnector(resolveDeliverConfig({}), undefined, window);
  try {
    const stream = await connector.open(`127.0.0.1:${port}`, Uint8Array.of(1));
    const n = await result; // the follower reads nothing
    stream.close();
    return n;
  } finally {
    connector.closeAll();
    server.forceShutdown();
  }
}

test('stream receive window: the upstream sends up to the window ahead of a follower that reads nothing', async () => {
  assert.equal(STREAM_DEFAULTS.receiveWindow, 4 * 1024 * 1024);
  const small = await bytesAhead(65_535);
  const byDefault = await bytesAhead(undefined);
  const large = await bytesAhead(16 * 1024 * 1024);
  // beyond the window: the follower's 4 queued frames and the server's own write buffer (~2 MiB
  // here); with HTTP/2's 64 KiB the frames beyond it wait at the server, one window per round trip
  assert.ok(small < 3 * 1024 * 1024, `64 KiB window: ${small} bytes ahead`);
  assert.ok(
    byDefault >= 4 * 1024 * 1024 && byDefault < 8 * 1024 * 1024,
    `default window: ${byDefault} bytes ahead`,
  );
  assert.ok(large >= 16 * 1024 * 1024 && large < 24 * 1024 * 1024, `16 MiB window: ${large} bytes ahead`);
});
