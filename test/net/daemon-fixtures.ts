/**
 * A network folder for peer daemons started in-process (prepareLayout), with a stand-in orderer
 * that only accepts connections (a peer's start-up check needs its port to answer; no blocks
 * come from it), the channel's genesis block and the layout orderer's signer for making blocks.
 * close() stops the stand-in and deletes the folder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningIdentity } from '../../src/identity/signer.js';
import {
  genesisFile,
  ordererCryptoDir,
  prepareLayout,
  type NetworkLayout,
} from '../../src/network/layout.js';
import type { Signer } from '../../src/wire/signer.js';
import { BlockStore } from '../../src/ledger/index.js';
import { blocksAfter } from './catchup-fixtures.js';

export interface DaemonFixture {
  readonly root: string;
  readonly layout: NetworkLayout;
  readonly genesis: Uint8Array;
  readonly ordererSigner: Signer;
  /**
   * Write the channel's ledger under a peer's grapevine.ledgerPath before it starts: the genesis
   * block and `blocks` more signed by the layout's orderer; resolves with the height.
   */
  seedLedger(ledgerPath: string, blocks: number): Promise<bigint>;
  close(): Promise<void>;
}

export async function daemonFixture(prefix: string): Promise<DaemonFixture> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const layout = (await prepareLayout(join(root, 'net'))).layout;
  const orderer = createServer((s) => s.destroy());
  await new Promise<void>((r) => orderer.listen(layout.orderer.port, '127.0.0.1', () => r()));
  const genesis = new Uint8Array(readFileSync(genesisFile(layout)));
  const ordererSigner = loadSigningIdentity(join(ordererCryptoDir(layout), 'msp'), 'OrdererMSP', {
    now: new Date(),
  }).signer;
  return {
    root,
    layout,
    genesis,
    ordererSigner,
    async seedLedger(ledgerPath, blocks) {
      const store = await BlockStore.open(join(ledgerPath, layout.channel));
      try {
        await store.append(genesis);
        await store.appendMany(blocksAfter(genesis, ordererSigner, blocks, { channel: layout.channel }));
        return store.height();
      } finally {
        await store.close();
      }
    },
    close: async () => {
      await new Promise<void>((r) => orderer.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
