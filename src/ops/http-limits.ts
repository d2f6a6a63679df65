/**
 * Connection limits of an HTTP(S) server (the operations server, the dashboard): the same gate as
 * the gRPC servers' (src/base/conn-gate.ts), plus Node's HTTP timeouts at safe values.
 *
 * Algorithm: a listener prepended to the server's 'connection' event (the raw TCP socket, before
 * the TLS or HTTP layer reads a byte) admits the socket or destroys it (Node's http and https
 * servers then see it close); 'secureConnection' (HTTPS) ends the handshake deadline and starts
 * the idle one; the first 'request' on a connection makes it active (after that Node's
 * keepAliveTimeout closes it when idle between requests). headersTimeout / requestTimeout bound a
 * request that trickles in; Node checks them every connectionsCheckingInterval (30 s), our idle
 * deadline catches a first request that never completes sooner. The first request is what
 * authenticates a connection here (conn-gate.ts: strangers are shed first).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../base/metrics.js';
import { ConnGate, DEFAULT_CONN_LIMITS, peerKey, type ConnLimits } from '../base/conn-gate.js';
import { METRICS } from '../base/metric-table.js';

/** Node's HTTP server timeouts (ms) set by limitHttpServer. */
export const HTTP_TIMEOUTS = Object.freeze({
  /** Complete request headers within this of the first byte. */
  headersTimeoutMs: 10_000,
  /** The complete request (headers and body) within this. */
  requestTimeoutMs: 10_000,
  /** A kept-alive connection idle this long after a response is closed (Node's default). */
  keepAliveTimeoutMs: 5_000,
});

/** Apply the gate and the timeouts to `server` (before it listens); returns the gate. */
export function limitHttpServer(
  server: Server,
  name: string,
  tls: boolean,
  limits: Partial<ConnLimits> = {},
  metrics?: Metrics,
): ConnGate {
  const gate = new ConnGate(
    name,
    { ...DEFAULT_CONN_LIMITS, ...limits },
    // the operations server keeps admitting while the process sheds (an operator must get in)
    { tls, authOnActive: true, shedOnShortage: name !== 'operations', ...(metrics ? { metrics } : {}) },
  );
  server.headersTimeout = HTTP_TIMEOUTS.headersTimeoutMs;
  server.requestTimeout = HTTP_TIMEOUTS.requestTimeoutMs;
  server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveTimeoutMs;
  server.prependListener('connection', (socket: Socket) => void gate.admit(socket));
  server.on('secureConnection', (socket: Socket) => gate.secured(peerKey(socket)));
  server.on('request', (req: { socket: Socket }) => gate.active(peerKey(req.socket)));
  // what a connection sent that the server cannot speak, counted by layer (Node closes it)
  const errors = metrics?.counter(METRICS.grapevineConnErrorsTotal);
  server.on('tlsClientError', () => errors?.inc({ server: name, kind: 'tls' }));
  server.on('clientError', (_e: Error, socket: Socket) => {
    errors?.inc({ server: name, kind: 'http' });
    // Node's own answer, which a 'clientError' listener replaces
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  return gate;
}
