/**
 * `grapevine dashboard --peer <ops-url>... [--host 127.0.0.1] [--port <port>] [--interval <ms>]
 * [--timeout <ms>] [--stall <s>] [--cacert <pem>] [--cert <pem> --key <pem>] [--duration <s>]`:
 * the dashboard (src/watch/dashboard.ts) attached to the given peers' operations endpoints,
 * until Ctrl-C (or --duration). An endpoint that does not answer is shown on the page, not fatal.
 */
import { ConfigError } from '../../base/errors.js';
import { readTlsFiles, statusUrl, type TlsFlags } from '../../watch/client.js';
import { startDashboard } from '../../watch/dashboard.js';
import { untilStopSignal } from '../common.js';
import { durationOption, positiveOption } from '../options.js';

export interface DashboardFlags extends TlsFlags {
  peer: string[];
  host: string;
  port?: string;
  interval: string;
  timeout: string;
  stall: string;
  duration?: string;
}

export async function dashboardCommand(flags: DashboardFlags): Promise<void> {
  const urls = flags.peer;
  if (urls.length === 0) throw new ConfigError('BAD_FLAG', '--peer: at least one operations endpoint');
  for (const u of urls) statusUrl(u);
  const port = flags.port === undefined ? undefined : Math.floor(positiveOption('--port', flags.port));
  if (port !== undefined && port > 65535) throw new ConfigError('BAD_FLAG', `--port: ${port} is not a port`);
  const intervalMs = durationOption('--interval', flags.interval, 1, 100);
  const timeoutMs = durationOption('--timeout', flags.timeout, 1, 1);
  const stallMs = durationOption('--stall', flags.stall, 1000, 1);
  const durationMs =
    flags.duration === undefined ? undefined : durationOption('--duration', flags.duration, 1000, 1);
  const d = await startDashboard({
    urls,
    host: flags.host,
    ...(port !== undefined ? { port } : {}),
    intervalMs,
    timeoutMs,
    stallMs,
    tls: readTlsFiles(flags),
  });
  console.log(`dashboard: ${d.url}`);
  console.log(
    `watching ${urls.length} operations endpoint${urls.length === 1 ? '' : 's'} every ${intervalMs} ms: ${urls.join(', ')} (Ctrl-C stops)`,
  );
  await untilStopSignal(durationMs);
  await d.stop();
}
