/** `grapevine probe <host:port>` (implementation: ../commands/probe.ts). */
import type { Command } from 'commander';
import type { ProbeOptions } from '../commands/probe.js';

export function register(program: Command): void {
  program
    .command('probe')
    .description('dial a gossip endpoint, authenticate it (probe handshake) and print its identity')
    .argument('<endpoint>', 'host:port of a Fabric or Grapevine peer')
    .requiredOption('--msp <dir>', 'our MSP folder (signcerts, keystore, cacerts)')
    .requiredOption('--mspid <id>', 'our MSP ID')
    .option('--tls <dir>', 'our TLS folder (server.crt/key or client.crt/key, ca.crt); omit for plaintext')
    .option(
      '--trust <mspdir:mspid>',
      "another org's MSP to accept (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--timeout <ms>', 'TCP/TLS/dial timeout', '3000')
    .option(
      '--json',
      'print one JSON object: {ok: true, endpoint, pkiId, mspId, subject, rttMs}, or {ok: false, endpoint, step, error} (exit 1)',
    )
    .action(async (endpoint: string, opts: ProbeOptions) => {
      await (await import('../commands/probe.js')).probeCommand(endpoint, opts);
    });
}
