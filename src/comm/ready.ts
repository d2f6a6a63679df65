/**
 * Waiting for a gRPC client's channel to connect: resolve when it is READY; reject with the
 * caller's error at the first TRANSIENT_FAILURE or SHUTDOWN ('failed') or at the deadline
 * ('timeout'). Used by the gossip dialer and the deliver client.
 */
import * as grpc from '@grpc/grpc-js';

export function waitChannelReady(
  client: grpc.Client,
  timeoutMs: number,
  error: (why: 'failed' | 'timeout') => Error,
): Promise<void> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return resolve();
      if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
        return reject(error('failed'));
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) reject(error('timeout'));
        else check();
      });
    };
    check();
  });
}
