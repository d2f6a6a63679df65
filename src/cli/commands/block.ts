/**
 * `grapevine block verify --config <config block> <blocks...>`: checks blocks against a channel
 * config (hash chain, orderer signatures, ...) with the channel-config module's verifyBlocks; exit 0
 * only when every block verifies, otherwise one line per failing block on stderr and exit 1.
 * (`block inspect` is block-inspect.ts: the block JSON's decoders are not loaded to verify.)
 */
import { CommanderError } from 'commander';
import { verifyBlocks, type BlockResult } from '../../channelconfig/index.js';
import { ConfigError, errorMessage, GrapevineError } from '../../base/errors.js';
import { oneLine, readInput } from './input.js';
import { printErr, printOut } from '../output.js';

export interface VerifyReport {
  readonly ok: boolean;
  readonly lines: string[];
}

/** One block's result in `block verify --json`: the file, whether it verified, and why not. */
export interface BlockVerdict {
  readonly file: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/** What `block verify --json` prints (one JSON object on stdout). */
export interface VerifyJson {
  readonly ok: boolean;
  readonly config: string;
  readonly verified: number;
  readonly failed: number;
  readonly blocks: BlockVerdict[];
}

/** Every block's verdict against the config block, in the order given. */
export function verifyVerdicts(configFile: string, files: string[], now: Date): BlockVerdict[] {
  const config = readInput(configFile);
  const blocks = files.map((name) => ({ name, bytes: readInput(name) }));
  let results: BlockResult[];
  try {
    results = verifyBlocks(config, blocks, now);
  } catch (e) {
    if (e instanceof GrapevineError)
      throw new ConfigError(e.code, `${configFile}: ${oneLine(e.message)}`, { cause: e });
    throw new ConfigError('INTERNAL', `${configFile}: cannot verify: ${oneLine(errorMessage(e))}`, {
      cause: e,
    });
  }
  return files.map((file) => {
    const r = results.find((x) => x.name === file);
    if (!r) return { file, ok: false, reason: 'no verification result' };
    return r.ok
      ? { file, ok: true }
      : { file, ok: false, reason: oneLine(r.reason ?? 'verification failed') };
  });
}

/** The verify command's work: one line per failing block ("<file>: <reason>"), or a summary when all pass. */
export function verifyFiles(configFile: string, files: string[], now: Date): VerifyReport {
  const failed = verifyVerdicts(configFile, files, now).filter((v) => !v.ok);
  if (failed.length > 0) return { ok: false, lines: failed.map((v) => `${v.file}: ${v.reason}`) };
  return { ok: true, lines: [`${files.length} block(s) verified against ${configFile}`] };
}

/** `block verify --json`'s object. */
export function verifyJson(configFile: string, files: string[], now: Date): VerifyJson {
  const blocks = verifyVerdicts(configFile, files, now);
  const failed = blocks.filter((b) => !b.ok).length;
  return { ok: failed === 0, config: configFile, verified: blocks.length - failed, failed, blocks };
}

/** `grapevine block inspect`: the JSON on stdout, or written to --output. */
/**
 * `grapevine block verify`: the summary on stdout, or one line per failing block on stderr and
 * exit 1. With --json, one JSON object (VerifyJson) on stdout either way, exit 1 when a block fails.
 */
export function runBlockVerify(files: string[], opts: { config: string; json?: boolean }): void {
  if (opts.json) {
    const report = verifyJson(opts.config, files, new Date());
    printOut(JSON.stringify(report) + '\n');
    if (!report.ok)
      throw new CommanderError(1, 'grapevine.block.verify', `${report.failed} block(s) failed verification`);
    return;
  }
  const report = verifyFiles(opts.config, files, new Date());
  if (report.ok) {
    printOut(report.lines.join('\n') + '\n');
    return;
  }
  printErr(report.lines.join('\n') + '\n');
  throw new CommanderError(
    1,
    'grapevine.block.verify',
    `${report.lines.length} block(s) failed verification`,
  );
}
