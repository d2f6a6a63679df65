/**
 * Running the handshake (handshake.ts) over a live GossipStream (PROTOCOL.md §3.2):
 *   responder: no remote TLS certificate -> refuse before sending;
 *   both: write our ConnEstablish at once, then read exactly one frame within connTimeout;
 *   the stream is paused right after that frame, so nothing after it is lost: the Connection
 *   that takes the stream over resumes it.
 *   A stop (Stopper) fails a handshake in progress at once.
 * Our ConnEstablish has no nonce or timestamp, so it is signed once per (signer, TLS leaf, probe)
 * and the same signed bytes are sent on every connection (Fabric signs each time; the bytes
 * differ only by ECDSA's random k, and the receiver's checks are the same).
 */
import { errorMessage } from '../base/errors.js';
import type { Clock } from '../base/time.js';
import { decodeEnvelope, encodeEnvelope } from '../wire/gossip.js';
import {
  HandshakeError,
  buildConnEstablish,
  checkRemoteTlsPresent,
  verifyConnEstablish,
  type HandshakeResult,
  type HandshakeSelf,
  type HandshakeVerifier,
} from '../core/link/handshake.js';
import type { Stopper } from './stopper.js';
import type { GossipDuplex } from './stream.js';
import type { Signer } from '../wire/signer.js';

export interface ExchangeOptions {
  readonly self: HandshakeSelf;
  /** Our TLS leaf for this direction (client cert when dialling, server cert when accepting). */
  readonly ownLeafDer?: Uint8Array;
  readonly tlsEnabled: boolean;
  readonly verifier: HandshakeVerifier;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly probe: boolean;
  /** Aborts the handshake when the transport stops. */
  readonly stopper?: Stopper;
}

const NO_LEAF = new Uint8Array(0);
const signedOnce = new WeakMap<Signer, WeakMap<Uint8Array, Buffer[]>>();

/** Our signed ConnEstablish frame for this leaf and probe flag, signed on first use. */
export function ownConnEstablish(
  self: HandshakeSelf,
  ownLeafDer: Uint8Array | undefined,
  probe: boolean,
): Buffer {
  let byLeaf = signedOnce.get(self.signer);
  if (!byLeaf) signedOnce.set(self.signer, (byLeaf = new WeakMap()));
  const leaf = ownLeafDer ?? NO_LEAF;
  let frames = byLeaf.get(leaf);
  if (!frames) byLeaf.set(leaf, (frames = []));
  const i = probe ? 1 : 0;
  return (frames[i] ??= Buffer.from(encodeEnvelope(buildConnEstablish(self, ownLeafDer, probe))));
}

export function exchangeHandshake(duplex: GossipDuplex, opts: ExchangeOptions): Promise<HandshakeResult> {
  const role = duplex.direction === 'out' ? 'initiator' : 'responder';
  try {
    if (role === 'responder') checkRemoteTlsPresent(opts.tlsEnabled, duplex.remoteCertDer());
  } catch (e) {
    return Promise.reject(e);
  }
  let ours: Buffer;
  try {
    ours = ownConnEstablish(opts.self, opts.ownLeafDer, opts.probe);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise<HandshakeResult>((resolve, reject) => {
    const s = duplex.stream;
    let done = false;
    let forgetStop = (): unknown => undefined;
    const finish = (err: unknown, result?: HandshakeResult) => {
      if (done) return;
      done = true;
      opts.clock.clearTimer(timer);
      forgetStop();
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
          {
            envelope,
            tlsEnabled: opts.tlsEnabled,
            remoteTlsCertDer: duplex.remoteCertDer(),
            endpoint: duplex.peer(),
            role,
          },
          opts.verifier,
        );
        finish(undefined, result);
      } catch (e) {
        finish(
          e instanceof HandshakeError
            ? e
            : new HandshakeError('NOT_CONN', `first message does not parse: ${errorMessage(e)}`),
        );
      }
    };
    const onEnd = () =>
      finish(new HandshakeError('NOT_CONN', 'stream closed before a ConnEstablish arrived'));
    const onError = (e: Error) =>
      finish(new HandshakeError('NOT_CONN', `stream failed before a ConnEstablish arrived: ${e.message}`));
    const timer = opts.clock.setTimeout(
      () => finish(new HandshakeError('TIMEOUT', `no ConnEstablish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.on('error', onError);
    if (opts.stopper) forgetStop = opts.stopper.onStop((e) => finish(e));
    if (done) return;
    try {
      s.write(ours);
    } catch (e) {
      finish(new HandshakeError('NOT_CONN', `could not send ConnEstablish: ${errorMessage(e)}`));
    }
  });
}
