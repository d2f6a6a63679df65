/**
 * `grapevine network up [--dir .grapevine/network] [--reset] [--no-view] [--rate <tx/s>]
 * [--port <dashboard port>] [--duration <s>]`: run the local network (src/network/network.ts)
 * until Ctrl-C (or --duration), then stop every process it started.
 */
import { LocalNetwork } from '../../network/network.js';
import { TerminalView } from '../../network/view.js';
import { untilStopSignal } from '../common.js';
import { durationOption, positiveOption } from '../options.js';

export interface NetworkUpFlags {
  dir: string;
  reset?: boolean;
  view: boolean;
  rate: string;
  port?: string;
  duration?: string;
}

const positive = (flag: string, v: string | undefined): number | undefined =>
  v === undefined ? undefined : positiveOption(flag, v);

export async function runNetworkUp(flags: NetworkUpFlags): Promise<void> {
  const rate = positive('--rate', flags.rate);
  const port = positive('--port', flags.port);
  const durationMs =
    flags.duration === undefined ? undefined : durationOption('--duration', flags.duration, 1000, 1);
  let interrupted = false;
  const early = () => {
    interrupted = true;
  };
  process.on('SIGINT', early);
  process.on('SIGTERM', early);
  let net: LocalNetwork;
  try {
    net = await LocalNetwork.up({
      dir: flags.dir,
      reset: flags.reset,
      ...(rate ? { rate } : {}),
      ...(port ? { dashboardPort: port } : {}),
    });
  } finally {
    process.off('SIGINT', early);
    process.off('SIGTERM', early);
  }
  let firstShown = false;
  const view = flags.view ? new TerminalView(() => net.snapshot()) : undefined;
  view?.start();
  const milestones = setInterval(() => {
    const s = net.snapshot();
    if (!firstShown && s.milestones.firstBlockEverywhereAt) {
      firstShown = true;
      if (!view)
        console.log(
          `first block committed on every peer ${((s.milestones.firstBlockEverywhereAt - s.startedAt) / 1000).toFixed(2)} s after start`,
        );
    }
  }, 200);
  if (!view) console.log(`network up; dashboard: ${net.dashboardUrl()} (Ctrl-C stops everything)`);
  if (!interrupted) await untilStopSignal(durationMs);
  clearInterval(milestones);
  view?.stop();
  const last = net.snapshot();
  console.log(`\nstopping ${net.pids().length} processes…`);
  await net.stop();
  const heights = last.peers.map((p) => `${p.name}=${p.height}`).join(' ');
  console.log(`network stopped; heights ${heights}; every child process has exited`);
}
