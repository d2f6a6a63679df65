/**
 * Catch-up fixtures on a real channel (e2e-world's netChannel: testCrypto material and a
 * configtx genesis block): blocks 1..n signed by the channel's orderer and chained to the
 * genesis block, a peer's real MessageCryptoService for the channel, its TLS and signer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCommTls } from '../../src/comm/identity.js';
import type { CommTls } from '../../src/comm/tls.js';
import { parseChannelConfig } from '../../src/channelconfig/index.js';
import { makeBlock } from '../../src/sim/blockmaker.js';
import { loadSigningIdentity, MessageCryptoService } from '../../src/identity/index.js';
import type { LocalIdentity } from '../../src/identity/types.js';
import { ChannelCryptoRegistry } from '../../src/service/index.js';
import { blockHeaderHash, decodeBlock } from '../../src/wire/block.js';
import type { Signer } from '../../src/wire/signer.js';
import { testOrdererDir, testOrgMspDir, testPeerDir } from '../helpers/crypto.js';
import { CHANNEL, type NetChannel } from './e2e-world.js';

export function ordererSignerOf(net: NetChannel): Signer {
  return loadSigningIdentity(join(testOrdererDir(net.root), 'msp'), 'OrdererMSP', { now: new Date() }).signer;
}

/** Blocks 1..n of `channel` (default e2e-world's), txBytes of payload each, chained to `genesis`. */
export function blocksAfter(
  genesis: Uint8Array,
  orderer: Signer,
  n: number,
  o: { channel?: string; txBytes?: number } = {},
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = blockHeaderHash(decodeBlock(genesis).header!);
  for (let i = 1; i <= n; i++) {
    const { block, bytes } = makeBlock({
      channel: o.channel ?? CHANNEL,
      number: BigInt(i),
      previousHash: prev,
      orderer,
      txBytes: o.txBytes ?? 64,
    });
    prev = blockHeaderHash(block.header!);
    out.push(bytes);
  }
  return out;
}

export function localOf(net: NetChannel, org: number, peer: number): LocalIdentity {
  return loadSigningIdentity(join(testPeerDir(net.root, org, peer), 'msp'), `Org${org}MSP`, {
    now: new Date(),
  });
}

/** The MessageCryptoService of peer<peer>.org<org> with the channel's config from `configBlock` (default genesis). */
export function mcsOf(
  net: NetChannel,
  org: number,
  peer: number,
  configBlock = net.genesis,
): MessageCryptoService {
  const registry = new ChannelCryptoRegistry();
  const cfg = parseChannelConfig(decodeBlock(configBlock));
  registry.set(cfg.channelId, cfg.cryptoContext());
  return new MessageCryptoService(localOf(net, org, peer), registry, () => new Date());
}

function firstFile(dir: string): Buffer {
  return readFileSync(
    join(
      dir,
      readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .sort()[0]!,
    ),
  );
}

/** Mutual TLS of a peer trusting every org's TLS CA (outsiders included). */
export function tlsOf(net: NetChannel, org: number, peer: number): CommTls {
  const total = net.spec.orgs + (net.spec.outsiderOrgs ?? 0);
  const cas = Array.from({ length: total }, (_, i) =>
    firstFile(join(testOrgMspDir(net.root, i + 1), 'tlscacerts')),
  );
  return loadCommTls(join(testPeerDir(net.root, org, peer), 'tls'), cas);
}
