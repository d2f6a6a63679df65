/**
 * `grapevine peer start` (or Fabric's `peer node start`) `[--config <core.yaml>] [--join <block>...]`: run a peer daemon until
 * SIGINT/SIGTERM (see src/node/daemon.ts). Started by `grapevine network up` with an IPC
 * channel, the peer also reports its state to the parent every `--report-ms` and stops when
 * the parent goes away.
 */
import { loadPeerConfig } from '../../node/config/index.js';
import { PeerDaemon } from '../../node/daemon.js';
import { LogLevels } from '../../node/logspec.js';
import { errorMessage } from '../../base/errors.js';
import { guardResourceErrors } from '../../base/resources.js';
import { durationOption } from '../options.js';

export interface PeerStartFlags {
  config?: string;
  join?: string[];
  reportMs?: string;
  ordererWait?: string;
}

/** Messages a peer sends to its parent over IPC. */
export type PeerIpcMessage =
  | { type: 'ready'; state: ReturnType<PeerDaemon['snapshot']> }
  | { type: 'state'; state: ReturnType<PeerDaemon['snapshot']> }
  | { type: 'error'; message: string };

function waitForStop(daemon: PeerDaemon): Promise<void> {
  return new Promise<void>((resolve) => {
    let signalled = false;
    const done = (): void => {
      if (signalled) return;
      signalled = true;
      resolve();
    };
    // a second Ctrl-C gives up waiting; a SIGTERM after a terminal's SIGINT (network up) does not
    let interrupts = 0;
    process.on('SIGINT', () => {
      if (++interrupts > 1) process.exit(1);
      done();
    });
    process.on('SIGTERM', done);
    if (process.send) process.on('disconnect', done);
    void daemon;
  });
}

export async function runPeerStart(flags: PeerStartFlags): Promise<void> {
  const send = process.send?.bind(process);
  let daemon: PeerDaemon;
  let reportEveryMs: number;
  try {
    // flags first: a bad flag is named before any file is read
    // accepted for old scripts: the peer no longer waits for an orderer (a follower never needs one)
    if (flags.ordererWait !== undefined) durationOption('--orderer-wait', flags.ordererWait, 1);
    reportEveryMs = durationOption('--report-ms', flags.reportMs ?? '250', 1, 50);
    const config = loadPeerConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}) });
    const levels = new LogLevels({ spec: config.grapevine.logSpec });
    const log = levels.root.child({ component: 'node' });
    guardResourceErrors((m) => log.warn(m));
    for (const w of config.warnings) log.warn(w);
    if (flags.ordererWait !== undefined)
      log.warn('--orderer-wait is ignored: the peer starts without an orderer and warns while none answers');
    daemon = await PeerDaemon.start({
      config,
      join: flags.join ?? [],
      logger: levels.root,
      logSpec: levels,
    });
  } catch (e) {
    send?.({ type: 'error', message: errorMessage(e) } satisfies PeerIpcMessage);
    throw e;
  }
  // the daemon logged 'peer started' with its endpoints (a log line on stderr, not a stdout line)
  let timer: NodeJS.Timeout | undefined;
  if (send) {
    send({ type: 'ready', state: daemon.snapshot() } satisfies PeerIpcMessage);
    timer = setInterval(() => {
      if (process.connected) send({ type: 'state', state: daemon.snapshot() } satisfies PeerIpcMessage);
    }, reportEveryMs);
  }
  await waitForStop(daemon);
  if (timer) clearInterval(timer);
  await daemon.stop();
  if (process.connected) process.disconnect();
}
