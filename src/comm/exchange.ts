/**
 * Running the handshake (handshake.ts) over a live GossipStream (PROTOCOL.md §3.2):
 *   responder: no remote TLS certificate -> refuse before sending;
 *   both: write our ConnEstablish at once, then read exactly one frame within connTimeout;
 *   the stream is paused right after that frame, so nothing after it is lost: the Connection
 *   that takes the stream over resumes it.
 */
import { errorMessage } from '../errors.js';
import type { Clock } from './types.js';
import { decodeEnvelope, encodeEnvelope } from '../wire/gossip.js';
import {
  HandshakeError,
  buildConnEstablish,
  checkRemoteTlsPresent,
  verifyConnEstablish,
  type HandshakeResult,
  type HandshakeSelf,
  type HandshakeVerifier,
} from './handshake.js';
import type { GossipDuplex } from './stream.js';

export interface ExchangeOptions {
  readonly self: HandshakeSelf;
  /** Our TLS leaf for this direction (client cert when dialling, server cert when accepting). */
  readonly ownLeafDer?: Uint8Array;
  readonly tlsEnabled: boolean;
  readonly verifier: HandshakeVerifier;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly probe: boolean;
}

export function exchangeHandshake(duplex: GossipDuplex, opts: ExchangeOptions): Promise<HandshakeResult> {
  const role = duplex.direction === 'out' ? 'initiator' : 'responder';
  try {
    if (role === 'responder') checkRemoteTlsPresent(opts.tlsEnabled, duplex.remoteCertDer());
  } catch (e) {
    return Promise.reject(e);
  }
  const ours = Buffer.from(encodeEnvelope(buildConnEstablish(opts.self, opts.ownLeafDer, opts.probe)));
  return new Promise<HandshakeResult>((resolve, reject) => {
    const s = duplex.stream;
    let done = false;
    const finish = (err: unknown, result?: HandshakeResult) => {
      if (done) return;
      done = true;
      opts.clock.clearTimer(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', onError);
      if (err) reject(err);
      else resolve(result!);
    };
    const onData = (frame: Buffer) => {
      s.pause();
      try {
        const envelope = decodeEnvelope(frame);
        const result = verifyConnEstablish(
          { envelope, tlsEnabled: opts.tlsEnabled, remoteTlsCertDer: duplex.remoteCertDer(), endpoint: duplex.peer(), role },
          opts.verifier,
        );
        finish(undefined, result);
      } catch (e) {
        finish(e instanceof HandshakeError ? e : new HandshakeError('NOT_CONN', `first message does not parse: ${errorMessage(e)}`));
      }
    };
    const onEnd = () => finish(new HandshakeError('NOT_CONN', 'stream closed before a ConnEstablish arrived'));
    const onError = (e: Error) => finish(new HandshakeError('NOT_CONN', `stream failed before a ConnEstablish arrived: ${e.message}`));
    const timer = opts.clock.setTimeout(
      () => finish(new HandshakeError('TIMEOUT', `no ConnEstablish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.on('error', onError);
    try {
      s.write(ours);
    } catch (e) {
      finish(new HandshakeError('NOT_CONN', `could not send ConnEstablish: ${errorMessage(e)}`));
    }
  });
}
