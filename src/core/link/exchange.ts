/**
 * Running the handshake (handshake.ts) over a live LinkStream (PROTOCOL.md §3.2), the same in
 * both worlds:
 *   responder: no remote TLS certificate -> refuse before sending;
 *   both: write our ConnEstablish at once, then read exactly one frame within connTimeout
 *   (TIMEOUT); a stream that ends first -> NOT_CONN. The stream is paused right after that
 *   frame, and frames that still arrive, or its end, are kept (`early`), so nothing after the
 *   handshake frame is lost: the Connection that takes the stream over replays them and resumes.
 *   A stop (Stopper) fails a handshake in progress at once.
 * Our ConnEstablish has no nonce or timestamp, so it is signed once per (signer, TLS leaf, probe)
 * and the same signed bytes are sent on every connection (Fabric signs each time; the bytes
 * differ only by ECDSA's random k, and the receiver's checks are the same).
 */
import { errorMessage } from '../../base/errors.js';
import type { Clock } from '../../base/time.js';
import { decodeEnvelope, encodeEnvelope } from '../../wire/gossip.js';
import {
  HandshakeError,
  buildConnEstablish,
  checkRemoteTlsPresent,
  verifyConnEstablish,
  type HandshakeResult,
  type HandshakeSelf,
  type HandshakeVerifier,
} from './handshake.js';
import type { Stopper } from './stopper.js';
import type { LinkStream } from './stream.js';
import type { Signer } from '../../wire/signer.js';

export interface ExchangeOptions {
  readonly self: HandshakeSelf;
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

/** What arrived after the handshake frame, before a Connection took the stream over. */
export interface EarlyInput {
  readonly frames: Uint8Array[];
  /** The stream ended meanwhile (why). */
  closed?: string;
}

export interface Exchanged extends HandshakeResult {
  readonly early: EarlyInput;
}

/** Run the handshake on `stream` (role by its direction); rejects with HandshakeError (or a stop's error). */
export function exchangeHandshake(stream: LinkStream, opts: ExchangeOptions): Promise<Exchanged> {
  const role = stream.direction === 'out' ? 'initiator' : 'responder';
  let ours: Buffer;
  try {
    if (role === 'responder') checkRemoteTlsPresent(opts.tlsEnabled, stream.remoteCertDer());
    ours = ownConnEstablish(opts.self, stream.ownCertDer, opts.probe);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise<Exchanged>((resolve, reject) => {
    let done = false;
    const early: EarlyInput = { frames: [] };
    let forgetStop = (): unknown => undefined;
    const finish = (err: unknown, result?: HandshakeResult) => {
      if (done) return;
      done = true;
      opts.clock.clearTimer(timer);
      forgetStop();
      if (err) reject(err);
      else resolve({ ...result!, early });
    };
    const onFrame = (frame: Uint8Array) => {
      if (done) {
        early.frames.push(frame);
        return;
      }
      stream.pause();
      try {
        const envelope = decodeEnvelope(frame);
        const result = verifyConnEstablish(
          {
            envelope,
            tlsEnabled: opts.tlsEnabled,
            remoteTlsCertDer: stream.remoteCertDer(),
            endpoint: stream.remoteEndpoint,
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
    const onClose = (why: string) => {
      if (done) early.closed ??= why;
      else finish(new HandshakeError('NOT_CONN', `stream closed before a ConnEstablish arrived: ${why}`));
    };
    const timer = opts.clock.setTimeout(
      () => finish(new HandshakeError('TIMEOUT', `no ConnEstablish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    stream.attach({ onFrame, onClose, onDrain: () => undefined });
    if (opts.stopper) forgetStop = opts.stopper.onStop((e) => finish(e));
    if (done) return;
    try {
      stream.write(ours);
    } catch (e) {
      finish(new HandshakeError('NOT_CONN', `could not send ConnEstablish: ${errorMessage(e)}`));
    }
  });
}
