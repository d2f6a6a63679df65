/**
 * The embedded orderer of a prepared network layout (src/network/layout.ts), as the tests and
 * benchmarks against real Fabric peers run it: its own TLS pair, no client authentication, and a
 * way to cut one block of one transaction signed by Org1's User1 (it passes the Writers policy).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sslCredentials, tlsTargetOptions } from '../../src/comm/tls.js';
import type { Logger } from '../../src/base/log.js';
import { loadSigningIdentity } from '../../src/identity/index.js';
import { genesisFile, ordererCryptoDir, userMspDir, type NetworkLayout } from '../../src/network/layout.js';
import { Orderer } from '../../src/orderer/server.js';
import { encode } from '../../src/wire/codec.js';
import { EnvelopeSchema, HeaderType, Status } from '../../src/wire/gen/common/common_pb.js';
import { signedEnvelope } from '../../src/wire/index.js';
import { broadcastAll } from './broadcast.js';

export interface LayoutOrderer {
  readonly orderer: Orderer;
  /** 127.0.0.1:<port> */
  readonly address: string;
  /** The orderer's TLS CA (PEM file). */
  readonly caFile: string;
  /** Broadcast one transaction carrying `data` and wait until the block holding it is cut. */
  cutBlock(data: Uint8Array, txId: string): Promise<void>;
  /**
   * Broadcast one transaction per entry of `data` on one Broadcast stream and wait until the
   * chain holds them all (with a batch size of 1: one block each; fast catch-up scenarios).
   */
  cutBlocks(data: readonly Uint8Array[], txIdPrefix: string): Promise<void>;
}

export async function startLayoutOrderer(
  layout: NetworkLayout,
  dataDir: string,
  logger: Logger,
): Promise<LayoutOrderer> {
  const ord = ordererCryptoDir(layout);
  const orderer = await Orderer.start({
    signer: loadSigningIdentity(join(ord, 'msp'), 'OrdererMSP', { now: new Date() }).signer,
    listen: `127.0.0.1:${layout.orderer.port}`,
    dataDir,
    genesis: new Uint8Array(readFileSync(genesisFile(layout))),
    tls: {
      certPem: readFileSync(join(ord, 'tls', 'server.crt')),
      keyPem: readFileSync(join(ord, 'tls', 'server.key')),
      clientAuthRequired: false,
    },
    logger,
  });
  const address = `127.0.0.1:${layout.orderer.port}`;
  const caFile = join(ord, 'tls', 'ca.crt');
  const user = loadSigningIdentity(userMspDir(layout, 1), 'Org1MSP', { now: new Date() }).signer;
  const creds = sslCredentials(readFileSync(caFile));
  const chain = orderer.chain(layout.channel)!;
  const envelope = (data: Uint8Array, txId: string) =>
    encode(
      EnvelopeSchema,
      signedEnvelope(
        {
          type: HeaderType.ENDORSER_TRANSACTION,
          channelId: layout.channel,
          data,
          nowMs: Date.now(),
          txId,
          preciseTimestamp: true,
        },
        user,
      ),
    );
  return {
    orderer,
    address,
    caFile,
    async cutBlock(data, txId) {
      const before = chain.height();
      const statuses = await broadcastAll(address, creds, [envelope(data, txId)], tlsTargetOptions(address));
      if (statuses.length !== 1 || statuses[0] !== Status.SUCCESS)
        throw new Error(`broadcast ${txId}: statuses ${statuses.join(', ')}, want SUCCESS`);
      await chain.waitForHeight(before + 1n);
    },
    async cutBlocks(data, txIdPrefix) {
      if (data.length === 0) return;
      const before = chain.height();
      const envs = data.map((d, i) => envelope(d, `${txIdPrefix}${i}`));
      const statuses = await broadcastAll(address, creds, envs, tlsTargetOptions(address));
      const bad = statuses.filter((s) => s !== Status.SUCCESS);
      if (statuses.length !== envs.length || bad.length > 0)
        throw new Error(
          `broadcast ${txIdPrefix}*: ${statuses.length} statuses for ${envs.length} envelopes, ${bad.length} not SUCCESS (${bad[0]})`,
        );
      await chain.waitForHeight(before + BigInt(envs.length));
    },
  };
}
