/** `grapevine status <ops-url>...` (implementation: ../commands/status.ts). */
import type { Command } from 'commander';
import type { StatusFlags } from '../commands/status.js';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      "fetch GET /status from peers' operations endpoints and print what they see of the network: every member with its org, liveness, heights, leadership and certificate expiry",
    )
    .argument('<ops-url...>', 'operations endpoint of a Grapevine peer (http://127.0.0.1:9443, or host:port)')
    .option(
      '--json',
      'print the answers as one JSON document: {"peers":[{url, ok, status} or {url, ok: false, error}]}',
    )
    .option('--cacert <file>', 'PEM CA certificates for an https operations endpoint')
    .option('--cert <file>', 'PEM client certificate for an https operations endpoint (with --key)')
    .option('--key <file>', 'PEM client key (with --cert)')
    .option('--timeout <ms>', 'time limit per endpoint (ms, or a Go duration: 5s)', '5000')
    .action(async (urls: string[], flags: StatusFlags) => {
      await (await import('../commands/status.js')).statusCommand(urls, flags);
    });
}
