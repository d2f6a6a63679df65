/** `grapevine dashboard --peer <ops-url>...` (implementation: ../commands/dashboard.ts). */
import type { Command } from 'commander';
import type { DashboardFlags } from '../commands/dashboard.js';

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value.split(',').filter((v) => v.trim() !== ''),
];

export function register(program: Command): void {
  program
    .command('dashboard')
    .description(
      "serve the live dashboard of a network seen through peers' operations endpoints (GET /status): topology by org, leaders, heights and lag, dead peers, each block's arrival, membership changes and alerts",
    )
    .requiredOption(
      '--peer <ops-url...>',
      'operations endpoint of a Grapevine peer (http://127.0.0.1:9443, or host:port); repeat it, or list several',
      collect,
    )
    .option('--host <host>', 'address the dashboard listens on', '127.0.0.1')
    .option('--port <port>', 'dashboard port (default: any free port)')
    .option('--interval <ms>', 'poll period of every endpoint (ms, or a Go duration: 2s)', '2000')
    .option('--timeout <ms>', 'time limit of one request (ms, or a Go duration: 5s)', '5000')
    .option(
      '--stall <s>',
      'log a height as stalled after this long behind the channel (s, or a Go duration)',
      '30',
    )
    .option('--cacert <file>', 'PEM CA certificates for https operations endpoints')
    .option('--cert <file>', 'PEM client certificate for https operations endpoints (with --key)')
    .option('--key <file>', 'PEM client key (with --cert)')
    .option('--duration <s>', 'stop by itself after this many seconds (or a Go duration: 90s, 5m)')
    .action(async (flags: DashboardFlags) => {
      await (await import('../commands/dashboard.js')).dashboardCommand(flags);
    });
}
