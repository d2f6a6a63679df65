/**
 * Fabric's gRPC server metrics (common/grpcmetrics and comm in Fabric v2.4.9), as a grpc-js server
 * interceptor: for every call, by `service` and `method` (`gossip.Gossip`, `GossipStream`),
 *
 *   unary:   grpc_server_unary_requests_received, _requests_completed{code}, _request_duration{code}
 *   stream:  grpc_server_stream_requests_received, _requests_completed{code}, _request_duration{code},
 *            grpc_server_stream_messages_received, grpc_server_stream_messages_sent
 *
 * `code` is Go's name of the status code (OK, Canceled, Unavailable, ...), as Fabric's label; a
 * call the client cancels completes with Canceled. grpc_comm_conn_opened/closed are counted by
 * the server for the connections it accepts (GossipServer).
 */
import * as grpc from '@grpc/grpc-js';
import type { Metrics } from '../base/metrics.js';
import { METRICS } from '../base/metric-table.js';

/** Go's codes.Code.String() for each gRPC status code. */
const GO_CODE: Readonly<Record<number, string>> = {
  0: 'OK',
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  11: 'OutOfRange',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  15: 'DataLoss',
  16: 'Unauthenticated',
};

export function goCodeName(code: number): string {
  return GO_CODE[code] ?? `Code(${code})`;
}

/** '/gossip.Gossip/GossipStream' -> ['gossip.Gossip', 'GossipStream']. */
function splitPath(path: string): [string, string] {
  const p = path.startsWith('/') ? path.slice(1) : path;
  const i = p.lastIndexOf('/');
  return i < 0 ? ['unknown', p] : [p.slice(0, i), p.slice(i + 1)];
}

export function grpcMetricsInterceptor(metrics: Metrics): grpc.ServerInterceptor {
  const unaryReceived = metrics.counter(METRICS.grpcServerUnaryRequestsReceived);
  const unaryCompleted = metrics.counter(METRICS.grpcServerUnaryRequestsCompleted);
  const unaryDuration = metrics.histogram(METRICS.grpcServerUnaryRequestDuration);
  const streamReceived = metrics.counter(METRICS.grpcServerStreamRequestsReceived);
  const streamCompleted = metrics.counter(METRICS.grpcServerStreamRequestsCompleted);
  const streamDuration = metrics.histogram(METRICS.grpcServerStreamRequestDuration);
  const messagesReceived = metrics.counter(METRICS.grpcServerStreamMessagesReceived);
  const messagesSent = metrics.counter(METRICS.grpcServerStreamMessagesSent);
  return (descriptor, call) => {
    const [service, method] = splitPath(descriptor.path);
    const labels = { service, method };
    const streaming = descriptor.requestStream || descriptor.responseStream;
    const started = performance.now();
    let done = false;
    const complete = (code: number) => {
      if (done) return;
      done = true;
      const l = { service, method, code: goCodeName(code) };
      const seconds = (performance.now() - started) / 1000;
      if (streaming) {
        streamCompleted.inc(l);
        streamDuration.observe(l, seconds);
      } else {
        unaryCompleted.inc(l);
        unaryDuration.observe(l, seconds);
      }
    };
    if (streaming) streamReceived.inc(labels);
    else unaryReceived.inc(labels);
    const received = streaming ? messagesReceived.labels(labels) : undefined;
    const sent = streaming ? messagesSent.labels(labels) : undefined;
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((message: unknown, next: (m: unknown) => void) => {
        received?.inc();
        next(message);
      })
      .withOnCancel(() => complete(grpc.status.CANCELLED))
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMessage((message: unknown, next: (m: unknown) => void) => {
        sent?.inc();
        next(message);
      })
      .withSendStatus((status, next) => {
        complete(status.code ?? grpc.status.OK);
        next(status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
