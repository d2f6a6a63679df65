/**
 * Request/response and server-streaming calls between simulated hosts, as gRPC carries them on
 * real sockets (a unary call is a stream of one message). Bytes in, bytes out: callers encode
 * their protobufs, as over gRPC. Each call is one SimNetwork stream to the host's 'rpc' service,
 * so latency, bandwidth, loss, partitions and crashes apply as to gossip streams.
 *
 * Algorithm (frames on the call's stream, first byte = kind):
 *   client: open the stream, send REQUEST{window, method, request}. Messages arrive into a
 *     buffer of at most `window`; each one the consumer takes is credited back to the server
 *     (WINDOW{n}, sent once half a window was taken). END{status} ends the call; the stream
 *     closing before END -> UNAVAILABLE (refused, reset by a crash, broken by a partition);
 *     the deadline (host clock) -> DEADLINE_EXCEEDED; cancel() -> CANCELLED. Deadline and cancel
 *     send CANCEL and close the stream.
 *   server: on REQUEST, find the method's handler (none: END UNIMPLEMENTED) and run it with a
 *     SimServerCall. send(m) writes at once while credit remains, else waits (at most `window`
 *     sends wait; more is RESOURCE_EXHAUSTED): flow control, a slow reader slows the server.
 *     end(status) sends END and closes. CANCEL or the stream closing -> cancelled: waiting sends
 *     reject CANCELLED, onCancel hooks run. A handler that returns a promise ends the call OK
 *     when it resolves (if it did not end it) and UNKNOWN (or its SimRpcError code) when it
 *     rejects.
 *   Registrations belong to the host's incarnation: a crash drops them (boot registers again).
 * A frame lost on a lossy link is lost for the call too (loss stands for loss above TCP); use a
 * deadline when loss is on.
 */
import { GrapevineError } from '../base/errors.js';
import type { TimerHandle } from '../base/time.js';
import type { SimNetwork, SimSocket } from './network.js';

export type SimRpcCode =
  | 'OK'
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE';

const CODES: readonly SimRpcCode[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'UNIMPLEMENTED',
  'UNAVAILABLE',
];

export interface SimRpcStatus {
  readonly code: SimRpcCode;
  readonly details: string;
}

/** A call that ended with a status other than OK; `code` is the status code. */
export class SimRpcError extends GrapevineError {
  declare readonly code: SimRpcCode;
  constructor(code: SimRpcCode, details: string) {
    super(code, details);
  }
}

export interface SimServerCall {
  readonly method: string;
  readonly request: Uint8Array;
  /** The calling host. */
  readonly peer: string;
  readonly cancelled: boolean;
  /** Send one message; resolves once it is on its way (credit allowing), rejects once cancelled. */
  send(message: Uint8Array): Promise<void>;
  /** End the call: OK without a status. Idempotent. */
  end(status?: SimRpcStatus): void;
  onCancel(hook: () => void): void;
}

export type SimRpcHandler = (call: SimServerCall) => void | Promise<void>;

export interface SimCallOptions {
  /** The call fails DEADLINE_EXCEEDED after this long (the caller's clock); none by default. */
  readonly deadlineMs?: number;
  /** Messages the client buffers (and the server may send unread); default 16. */
  readonly window?: number;
}

const REQUEST = 1;
const MESSAGE = 2;
const END = 3;
const CANCEL = 4;
const WINDOW = 5;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function readU32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
}

function frame(kind: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0));
  out[0] = kind;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function endFrame(s: SimRpcStatus): Uint8Array {
  return frame(END, Uint8Array.of(CODES.indexOf(s.code)), utf8.encode(s.details));
}

const ignore = (): void => undefined;

/** The rpc facility of one SimNetwork (SimNetwork.rpc). */
export class SimRpc {
  private readonly handlers = new Map<string, Map<string, SimRpcHandler>>();

  constructor(private readonly net: SimNetwork) {}

  /** Serve `method` on `endpoint` (this incarnation); returns a remover. */
  serve(endpoint: string, method: string, handler: SimRpcHandler): () => void {
    let methods = this.handlers.get(endpoint);
    if (!methods) {
      const m = (methods = new Map());
      this.handlers.set(endpoint, m);
      const unlisten = this.net.listen(endpoint, (s) => this.accept(s, m), 'rpc');
      const forget = () => {
        if (this.handlers.get(endpoint) === m) this.handlers.delete(endpoint);
      };
      this.net.onCrash(endpoint, forget);
      void unlisten;
    }
    if (methods.has(method)) throw new SimRpcError('UNKNOWN', `${endpoint} already serves ${method}`);
    methods.set(method, handler);
    const m = methods;
    return () => {
      if (m.get(method) === handler) m.delete(method);
    };
  }

  /** Open a call from `from` to `method` on `to`. */
  call(from: string, to: string, method: string, request: Uint8Array, opts: SimCallOptions = {}): SimCall {
    return new SimCall(this.net, from, to, method, request, opts);
  }

  /** A request/response call: the server's first message, then the call must end OK. */
  async unary(
    from: string,
    to: string,
    method: string,
    request: Uint8Array,
    opts: SimCallOptions = {},
  ): Promise<Uint8Array> {
    const call = this.call(from, to, method, request, { ...opts, window: 1 });
    let reply: Uint8Array | undefined;
    for await (const m of call) reply ??= m;
    if (!reply) throw new SimRpcError('UNKNOWN', `${method}: no response`);
    return reply;
  }

  private accept(socket: SimSocket, methods: Map<string, SimRpcHandler>): void {
    socket.onFrame = (bytes) => {
      if (bytes[0] !== REQUEST || bytes.length < 7) {
        socket.close('bad request');
        return;
      }
      const window = readU32(bytes, 1);
      const len = (bytes[5] << 8) | bytes[6];
      const method = fromUtf8.decode(bytes.subarray(7, 7 + len));
      const request = bytes.slice(7 + len);
      const handler = methods.get(method);
      const call = new ServerCall(socket, method, request, window);
      if (!handler) {
        call.end({ code: 'UNIMPLEMENTED', details: `unknown method ${method}` });
        return;
      }
      let ran: void | Promise<void>;
      try {
        ran = handler(call);
      } catch (e) {
        call.end(statusOf(e));
        return;
      }
      if (ran instanceof Promise)
        ran.then(
          () => call.end(),
          (e: unknown) => call.end(statusOf(e)),
        );
    };
  }
}

function statusOf(e: unknown): SimRpcStatus {
  if (e instanceof SimRpcError) return { code: e.code, details: e.message };
  return { code: 'UNKNOWN', details: e instanceof Error ? e.message : String(e) };
}

class ServerCall implements SimServerCall {
  cancelled = false;
  private ended = false;
  private readonly waiting: { message: Uint8Array; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly cancelHooks: (() => void)[] = [];

  constructor(
    private readonly socket: SimSocket,
    readonly method: string,
    readonly request: Uint8Array,
    private credit: number,
  ) {
    this.peer = socket.remote;
    this.initialWindow = credit;
    socket.onFrame = (bytes) => {
      if (bytes[0] === WINDOW && bytes.length >= 5) {
        this.credit += readU32(bytes, 1);
        this.flush();
      } else if (bytes[0] === CANCEL) this.cancel('cancelled by the client');
    };
    socket.onClose = (why) => this.cancel(why);
  }

  readonly peer: string;
  private readonly initialWindow: number;

  send(message: Uint8Array): Promise<void> {
    if (this.cancelled) return Promise.reject(new SimRpcError('CANCELLED', 'call cancelled'));
    if (this.ended) return Promise.reject(new SimRpcError('UNKNOWN', 'call already ended'));
    if (this.credit > 0 && this.waiting.length === 0) {
      this.credit--;
      void this.socket.write(frame(MESSAGE, message)).catch(ignore);
      return Promise.resolve();
    }
    if (this.waiting.length >= Math.max(1, this.initialWindow))
      return Promise.reject(new SimRpcError('RESOURCE_EXHAUSTED', 'too many sends wait for the reader'));
    return new Promise((resolve, reject) => this.waiting.push({ message, resolve, reject }));
  }

  end(status: SimRpcStatus = { code: 'OK', details: '' }): void {
    if (this.ended || this.cancelled) return;
    this.ended = true;
    // What waits for credit is dropped: the status goes out now.
    for (const w of this.waiting.splice(0)) w.reject(new SimRpcError('CANCELLED', 'call ended'));
    void this.socket.write(endFrame(status)).catch(ignore);
    this.socket.close('call ended');
  }

  onCancel(hook: () => void): void {
    if (this.cancelled) hook();
    else this.cancelHooks.push(hook);
  }

  private flush(): void {
    while (this.credit > 0 && this.waiting.length > 0 && !this.cancelled) {
      const w = this.waiting.shift()!;
      this.credit--;
      void this.socket.write(frame(MESSAGE, w.message)).catch(ignore);
      w.resolve();
    }
  }

  private cancel(why: string): void {
    if (this.cancelled || this.ended) return;
    this.cancelled = true;
    this.socket.close(why);
    const err = new SimRpcError('CANCELLED', `call cancelled: ${why}`);
    for (const w of this.waiting.splice(0)) w.reject(err);
    for (const h of this.cancelHooks.splice(0)) {
      try {
        h();
      } catch {
        /* a hook's failure is its own */
      }
    }
  }
}

/**
 * The client end of a call: an async iterable of the server's messages that ends when the call
 * ends OK and throws SimRpcError otherwise. `status` settles with the final status.
 */
export class SimCall implements AsyncIterable<Uint8Array> {
  private readonly socket: SimSocket;
  private readonly buffer: Uint8Array[] = [];
  private readonly window: number;
  private taken = 0;
  private final?: SimRpcStatus;
  private wake?: () => void;
  private timer?: TimerHandle;
  private readonly clock;
  private resolveStatus!: (s: SimRpcStatus) => void;
  /** The call's final status (OK included). */
  readonly status: Promise<SimRpcStatus>;

  constructor(
    net: SimNetwork,
    readonly from: string,
    readonly to: string,
    readonly method: string,
    request: Uint8Array,
    opts: SimCallOptions,
  ) {
    this.status = new Promise((r) => (this.resolveStatus = r));
    this.window = Math.max(1, opts.window ?? 16);
    const name = utf8.encode(method);
    this.socket = net.openStream(from, to, 'rpc');
    this.socket.onFrame = (bytes) => this.onFrame(bytes);
    this.socket.onClose = (why) => this.finish({ code: 'UNAVAILABLE', details: `${to}: ${why}` }, false);
    void this.socket
      .write(
        frame(REQUEST, u32(this.window), Uint8Array.of(name.length >> 8, name.length & 0xff), name, request),
      )
      .catch(ignore);
    this.clock = net.hostClock(from);
    if (opts.deadlineMs !== undefined) {
      this.timer = this.clock.setTimeout(
        () => this.finish({ code: 'DEADLINE_EXCEEDED', details: `${method}: deadline exceeded` }, true),
        opts.deadlineMs,
      );
    }
  }

  /** Messages received and not yet taken. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Stop the call: the server sees it cancelled; the iterator throws CANCELLED. Idempotent. */
  cancel(): void {
    this.finish({ code: 'CANCELLED', details: `${this.method}: cancelled by the caller` }, true);
  }

  /** The next message, or undefined once the call ended OK; throws SimRpcError otherwise. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const m = this.buffer.shift();
      if (m) {
        this.credit();
        return m;
      }
      if (this.final) {
        if (this.final.code === 'OK') return undefined;
        throw new SimRpcError(this.final.code, this.final.details);
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const m = await this.next();
      if (m === undefined) return;
      yield m;
    }
  }

  private credit(): void {
    if (this.final) return;
    if (++this.taken >= Math.max(1, this.window >> 1)) {
      void this.socket.write(frame(WINDOW, u32(this.taken))).catch(ignore);
      this.taken = 0;
    }
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.final) return;
    if (bytes[0] === MESSAGE) {
      // The server keeps within the window; a server that does not loses the excess.
      if (this.buffer.length < this.window) this.buffer.push(bytes.subarray(1));
    } else if (bytes[0] === END && bytes.length >= 2) {
      this.finish({ code: CODES[bytes[1]] ?? 'UNKNOWN', details: fromUtf8.decode(bytes.subarray(2)) }, false);
      return;
    }
    this.wakeUp();
  }

  private finish(status: SimRpcStatus, tellServer: boolean): void {
    if (this.final) return;
    this.final = status;
    if (this.timer) this.clock.clearTimer(this.timer);
    if (tellServer && !this.socket.closed) void this.socket.write(frame(CANCEL)).catch(ignore);
    if (status.code !== 'OK') this.buffer.length = 0;
    this.socket.close(status.code === 'OK' ? 'call ended' : status.details);
    this.resolveStatus(status);
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
