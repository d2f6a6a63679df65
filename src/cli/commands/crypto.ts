/**
 * `grapevine crypto generate --config <crypto-config.yaml> --output <dir>`: write keys and
 * certificates in cryptogen's folder layout, as `cryptogen generate --config --output` does.
 */
import { readFileSync } from 'node:fs';
import { generateCrypto, parseCryptoConfig, renderCryptoConfig } from '../../cryptogen/index.js';
import { ConfigError, errorMessage } from '../../base/errors.js';

export interface CryptoGenerateOptions {
  config: string;
  output: string;
}

/** Read, validate and generate; returns the lines to print. */
export async function runCryptoGenerate(opts: CryptoGenerateOptions): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(opts.config, 'utf8');
  } catch (e) {
    throw new ConfigError('CRYPTO_CONFIG_READ', `cannot read ${opts.config}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const config = parseCryptoConfig(text, opts.config);
  await generateCrypto(config, opts.output);
  return renderCryptoConfig(config, opts.config).map(
    (o) =>
      `${o.kind === 'peer' ? 'peerOrganizations' : 'ordererOrganizations'}/${o.domain}: ` +
      `${o.nodes.length} ${o.kind}${o.nodes.length === 1 ? '' : 's'}, ${o.users.length} user${o.users.length === 1 ? '' : 's'}` +
      `${o.nodeOUs ? ', NodeOUs' : ''}`,
  );
}
