/**
 * Real Fabric v2.4.9 peers for tests (binaries and sample config in ../shared/fabric, see its
 * README; set GRAPEVINE_FABRIC to use another folder). Where the folder is absent, tests skip:
 *
 *   const fabric = fabricOrSkip(t); if (!fabric) return;
 *   const peer = await FabricPeer.start({ fabric, dir, name, mspId, mspDir, tlsDir, ... });
 *   try { await peer.joinChannel(genesisFile, adminMspDir); ... } finally { await peer.stop(); }
 *
 * FabricPeer.start runs `peer node start` on free 127.0.0.1 ports (peer, chaincode, operations),
 * in `dir`, with FABRIC_CFG_PATH at a copy of the sample core.yaml (vm.endpoint blanked: no
 * docker; `core` edits the copy, e.g. peer.deliveryclient.addressOverrides, which Fabric reads
 * from core.yaml only) and CORE_* variables as ../shared/fabric/harness/net-up.sh sets them
 * (prometheus metrics on). stdout and stderr go to <dir>/<name>.log; tail() reads its end for a
 * failure message. stop() kills exactly the process started (SIGTERM, then SIGKILL), and every
 * peer still running is killed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import YAML from 'yaml';
import { freePort } from '../../src/network/layout.js';
import { until } from './until.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The main checkout of a git worktree (its .git is a file naming <main>/.git/worktrees/<name>). */
function mainCheckout(): string | undefined {
  try {
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(join(repoRoot, '.git'), 'utf8'));
    return m ? resolve(m[1].trim(), '..', '..', '..') : undefined;
  } catch {
    return undefined;
  }
}

function locate(): string {
  if (process.env.GRAPEVINE_FABRIC) return resolve(process.env.GRAPEVINE_FABRIC);
  const here = resolve(repoRoot, '..', 'shared', 'fabric');
  if (existsSync(here)) return here;
  const main = mainCheckout();
  return main ? resolve(main, '..', 'shared', 'fabric') : here;
}

export const FABRIC_DIR = locate();
export const HAVE_FABRIC =
  existsSync(join(FABRIC_DIR, 'bin', 'peer')) && existsSync(join(FABRIC_DIR, 'config', 'core.yaml'));

/** The Fabric folder, or undefined after t.skip() with the reason. */
export function fabricOrSkip(t: TestContext): string | undefined {
  if (HAVE_FABRIC) return FABRIC_DIR;
  t.skip(
    `../shared/fabric not found: no Fabric v2.4.9 binaries at ${FABRIC_DIR} (set GRAPEVINE_FABRIC or put ../shared beside the clone)`,
  );
  return undefined;
}

/** Whether 127.0.0.1:port accepts a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface FabricPeerOptions {
  /** The Fabric folder (bin/, config/). */
  readonly fabric: string;
  /** Working folder: config copy, ledger, log. */
  readonly dir: string;
  /** peer1.org1.example.com */
  readonly name: string;
  readonly mspId: string;
  /** The peer's local MSP folder and TLS folder (server.crt, server.key, ca.crt). */
  readonly mspDir: string;
  readonly tlsDir: string;
  /** CORE_PEER_GOSSIP_BOOTSTRAP (default: none but itself). */
  readonly bootstrap?: string;
  /** More CORE_* variables (win over the defaults). */
  readonly env?: Readonly<Record<string, string>>;
  /** Edit the parsed core.yaml copy. */
  readonly core?: (doc: Record<string, unknown>) => void;
  /** FABRIC_LOGGING_SPEC (default info). */
  readonly logSpec?: string;
  /** The gRPC port (default: a free one), e.g. the layout's, where the channel's anchor peers point. */
  readonly port?: number;
}

/** peer.deliveryclient.addressOverrides entries set in a core.yaml document. */
export function setAddressOverrides(
  doc: Record<string, unknown>,
  overrides: readonly { from: string; to: string; caCertsFile: string }[],
): void {
  const peer = doc.peer as Record<string, Record<string, unknown>>;
  peer.deliveryclient.addressOverrides = overrides.map((o) => ({ ...o }));
}

export class FabricPeer {
  private exited: Promise<void>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly o: FabricPeerOptions,
    private readonly proc: ChildProcess,
    /** host:port of the peer's gRPC server. */
    readonly address: string,
    readonly operationsUrl: string,
    readonly logFile: string,
    private readonly cfgDir: string,
  ) {
    this.exited = new Promise<void>((r) =>
      proc.once('exit', (code) => {
        this.exitCode = code;
        live.delete(proc);
        r();
      }),
    );
  }

  static async start(o: FabricPeerOptions): Promise<FabricPeer> {
    mkdirSync(o.dir, { recursive: true });
    const cfgDir = join(o.dir, 'config');
    mkdirSync(cfgDir, { recursive: true });
    const doc = YAML.parse(readFileSync(join(o.fabric, 'config', 'core.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    doc.vm.endpoint = '';
    o.core?.(doc);
    writeFileSync(join(cfgDir, 'core.yaml'), YAML.stringify(doc));
    const [port, ccPort, opsPort] = [o.port ?? (await freePort()), await freePort(), await freePort()];
    const address = `127.0.0.1:${port}`;
    const data = join(o.dir, 'data');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: o.dir,
      FABRIC_CFG_PATH: cfgDir,
      FABRIC_LOGGING_SPEC: o.logSpec ?? 'info',
      CORE_PEER_ID: o.name,
      CORE_PEER_NETWORKID: 'dev',
      CORE_PEER_LISTENADDRESS: address,
      CORE_PEER_ADDRESS: address,
      CORE_PEER_CHAINCODELISTENADDRESS: `127.0.0.1:${ccPort}`,
      CORE_PEER_CHAINCODEADDRESS: `127.0.0.1:${ccPort}`,
      CORE_PEER_LOCALMSPID: o.mspId,
      CORE_PEER_MSPCONFIGPATH: o.mspDir,
      CORE_PEER_FILESYSTEMPATH: data,
      CORE_LEDGER_SNAPSHOTS_ROOTDIR: join(data, 'snapshots'),
      CORE_OPERATIONS_LISTENADDRESS: `127.0.0.1:${opsPort}`,
      CORE_METRICS_PROVIDER: 'prometheus',
      CORE_PEER_GOSSIP_BOOTSTRAP: o.bootstrap ?? address,
      CORE_PEER_GOSSIP_ENDPOINT: address,
      CORE_PEER_GOSSIP_EXTERNALENDPOINT: address,
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_CERT_FILE: join(o.tlsDir, 'server.crt'),
      CORE_PEER_TLS_KEY_FILE: join(o.tlsDir, 'server.key'),
      CORE_PEER_TLS_ROOTCERT_FILE: join(o.tlsDir, 'ca.crt'),
      ...o.env,
    };
    const logFile = join(o.dir, `${o.name}.log`);
    const fd = openSync(logFile, 'a');
    let proc: ChildProcess;
    try {
      proc = spawn(join(o.fabric, 'bin', 'peer'), ['node', 'start'], {
        cwd: o.dir,
        env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    live.add(proc);
    const peer = new FabricPeer(o, proc, address, `http://127.0.0.1:${opsPort}`, logFile, cfgDir);
    try {
      await until(
        async () => {
          if (peer.exitCode !== undefined) throw new Error(`peer exited with ${peer.exitCode}`);
          return (await fetch(`${peer.operationsUrl}/healthz`).catch(() => undefined))?.ok ?? false;
        },
        `Fabric peer ${o.name} /healthz`,
        { timeoutMs: 30_000, intervalMs: 100, detail: () => peer.tail() },
      );
      // /healthz answers before the gRPC server listens
      await until(() => accepts(port), `Fabric peer ${o.name} on ${address}`, {
        timeoutMs: 30_000,
        intervalMs: 100,
        detail: () => peer.tail(),
      });
    } catch (e) {
      await peer.stop();
      throw e;
    }
    return peer;
  }

  /** The process id of the `peer node start` process (its /proc entry: RSS for the footprint benchmark). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The last `lines` lines of the peer's log. */
  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Run the `peer` CLI against this peer under the MSP `mspDir` (e.g. the org admin's). */
  cli(args: readonly string[], mspDir: string, timeoutMs = 30_000): Promise<string> {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.o.dir,
      FABRIC_CFG_PATH: this.cfgDir,
      FABRIC_LOGGING_SPEC: 'warning',
      CORE_PEER_LOCALMSPID: this.o.mspId,
      CORE_PEER_MSPCONFIGPATH: mspDir,
      CORE_PEER_ADDRESS: this.address,
      CORE_PEER_TLS_ENABLED: 'true',
      CORE_PEER_TLS_ROOTCERT_FILE: join(this.o.tlsDir, 'ca.crt'),
    };
    return new Promise((resolve, reject) => {
      execFile(
        join(this.o.fabric, 'bin', 'peer'),
        [...args],
        { env, cwd: this.o.dir, timeout: timeoutMs },
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`peer ${args.join(' ')}: ${err.message}\n${stderr}`))
            : resolve(`${stdout}${stderr}`),
      );
    });
  }

  /** `peer channel join -b <block>` under the org admin's MSP. */
  async joinChannel(blockFile: string, adminMspDir: string): Promise<void> {
    await this.cli(['channel', 'join', '-b', blockFile], adminMspDir);
  }

  /** `peer channel getinfo -c <channel>`: the ledger height. */
  async channelHeight(channel: string, adminMspDir: string): Promise<number> {
    const out = await this.cli(['channel', 'getinfo', '-c', channel], adminMspDir);
    const m = /"height":(\d+)/.exec(out);
    if (!m) throw new Error(`peer channel getinfo: no height in ${out}`);
    return Number(m[1]);
  }

  /** ledger_blockchain_height{channel} from the operations server's /metrics (0 when absent). */
  async metricHeight(channel: string): Promise<number> {
    const res = await fetch(`${this.operationsUrl}/metrics`).catch(() => undefined);
    if (!res?.ok) return 0;
    const text = await res.text();
    const m = new RegExp(`^ledger_blockchain_height\\{channel="${channel}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** SIGKILL the process started (a crash: no goodbye); resolves once it exited. */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Kill the process started (SIGTERM, SIGKILL after 5 s); idempotent. */
  async stop(): Promise<void> {
    if (this.exitCode === undefined) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}
