/**
 * Config updates from the command line (as Fabric's `peer channel update` and
 * `configtxgen -outputAnchorPeersUpdate` + `peer channel update`):
 *
 *   grapevine channel update -f <tx> -o <host:port> [-c <channel>] [--tls --cafile <pem>]
 *       [--ordererTLSHostnameOverride <name>] [--msp <admin msp> --mspid <id>]
 *     submit a CONFIG_UPDATE envelope file. With --msp, that identity's ConfigSignature is added
 *     and the envelope re-signed by it (what `peer channel update` does with the local admin).
 *   grapevine channel anchor-peers --channel <id> --orderer <host:port> [--cafile <pem>]
 *       --msp <admin msp> --mspid <id> [--org <group>] --anchor <host:port>... [--output <tx>]
 *     fetch the channel's current config block from the orderer, set the org's AnchorPeers,
 *     compute the update, sign it as the admin and submit it (or write it to --output).
 * A status other than SUCCESS is an error naming the status and the orderer's reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configOfBlock } from '../../channelconfig/index.js';
import { ConfigError, GrapevineError, errorMessage } from '../../base/errors.js';
import { loadSigningIdentity } from '../../identity/index.js';
import type { LocalIdentity } from '../../identity/types.js';
import { OrdererClient } from '../../orderer/client.js';
import { configUpdateEnvelopeOf } from '../../orderer/configupdate.js';
import { channelHeaderOf } from '../../identity/envelope.js';
import {
  computeConfigUpdate,
  configUpdateEnvelope,
  signConfigUpdate,
  withAnchorPeers,
} from '../../orderer/updatebuilder.js';
import { decode, encode } from '../../wire/codec.js';
import { EnvelopeSchema, Status, type Envelope } from '../../wire/gen/common/common_pb.js';
import { ConfigUpdateSchema } from '../../wire/gen/common/configtx_pb.js';

/**
 * The orderer flags. Fabric's spellings (`--tls`, `--cafile`, `--ordererTLSHostnameOverride`) and
 * Grapevine's older ones (`--orderer-tls-hostname-override`; `--cafile` alone turns TLS on) both work.
 */
export interface OrdererTarget {
  orderer: string;
  /** Fabric's --tls: TLS with the orderer (needs cafile). */
  tls?: boolean;
  cafile?: string;
  /** TLS server name override (--orderer-tls-hostname-override). */
  ordererTlsHostnameOverride?: string;
  /** Fabric's spelling of the same (--ordererTLSHostnameOverride). */
  ordererTLSHostnameOverride?: string;
}

export interface UpdateOptions extends OrdererTarget {
  file: string;
  /** Fabric's -c/--channelID: must be the envelope's channel when given. */
  channelID?: string;
  /** The same (--channel). */
  channel?: string;
  msp?: string;
  mspid?: string;
}

export interface AnchorPeersOptions extends OrdererTarget {
  /** -c/--channel, or Fabric's --channelID; one of them is required. */
  channel?: string;
  channelID?: string;
  msp: string;
  mspid: string;
  org?: string;
  anchor: string[];
  output?: string;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ConfigError('BAD_FILE', `cannot read ${what} ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

/** One value from two spellings of a flag; both given and different is an error. */
function eitherFlag(a: string | undefined, b: string | undefined, names: string): string | undefined {
  if (a !== undefined && b !== undefined && a !== b)
    throw new ConfigError('BAD_FLAGS', `${names} are the same flag: give one value ('${a}' or '${b}')`);
  return a ?? b;
}

function client(t: OrdererTarget): OrdererClient {
  if (t.tls && !t.cafile)
    throw new ConfigError('BAD_FLAGS', "--tls needs --cafile (the orderer's TLS CA certificate, PEM)");
  const serverName = eitherFlag(
    t.ordererTLSHostnameOverride,
    t.ordererTlsHostnameOverride,
    '--ordererTLSHostnameOverride and --orderer-tls-hostname-override',
  );
  return new OrdererClient({
    address: t.orderer,
    ...(t.cafile ? { tlsCa: readFile(t.cafile, 'orderer TLS CA') } : {}),
    ...(serverName ? { serverName } : {}),
  });
}

function parseAnchor(a: string): { host: string; port: number } {
  const i = a.lastIndexOf(':');
  const port = Number(a.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
    throw new ConfigError('BAD_ANCHOR', `--anchor: expected host:port, got '${a}'`);
  return { host: a.slice(0, i), port };
}

async function submit(t: OrdererTarget, env: Envelope, channel: string): Promise<string> {
  const c = client(t);
  try {
    const r = await c.broadcast(env);
    if (r.status !== Status.SUCCESS) {
      throw new GrapevineError(
        'UPDATE_REFUSED',
        `config update for channel ${channel} refused by ${t.orderer}: ${Status[r.status] ?? r.status} -- ${r.info}`,
      );
    }
    return `config update for channel ${channel} accepted by ${t.orderer} (SUCCESS)`;
  } finally {
    c.close();
  }
}

/** Add `id`'s ConfigSignature to a CONFIG_UPDATE envelope and re-sign the envelope as `id`. */
export function addSignature(env: Envelope, id: LocalIdentity, nowMs = Date.now()): Envelope {
  const ce = configUpdateEnvelopeOf(env);
  const channelId = channelHeaderOf(env).channelHeader.channelId;
  return configUpdateEnvelope({
    channelId,
    configUpdate: ce.configUpdate,
    signatures: [...ce.signatures, signConfigUpdate(ce.configUpdate, id.signer)],
    submitter: id.signer,
    nowMs,
  });
}

export async function runChannelUpdate(o: UpdateOptions): Promise<string> {
  const bytes = readFile(o.file, 'config update');
  let env: Envelope;
  let channel: string;
  try {
    env = decode(EnvelopeSchema, bytes, 'common.Envelope');
    configUpdateEnvelopeOf(env);
    channel = channelHeaderOf(env).channelHeader.channelId;
  } catch (e) {
    throw new ConfigError('BAD_UPDATE_FILE', `${o.file}: not a CONFIG_UPDATE envelope: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const wanted = eitherFlag(o.channelID, o.channel, '--channelID and --channel');
  if (wanted !== undefined && wanted !== channel)
    throw new ConfigError(
      'BAD_FLAGS',
      `${o.file} is a config update for channel ${channel}, not ${wanted} (-c/--channelID)`,
    );
  if (o.msp) {
    if (!o.mspid) throw new ConfigError('BAD_FLAGS', '--msp needs --mspid');
    env = addSignature(env, loadSigningIdentity(o.msp, o.mspid, { now: new Date() }));
  }
  return submit(o, env, channel);
}

export async function runAnchorPeers(flags: AnchorPeersOptions): Promise<string> {
  const channel = eitherFlag(flags.channel, flags.channelID, '--channel and --channelID');
  if (channel === undefined) throw new ConfigError('BAD_FLAGS', 'give the channel: -c/--channel <id>');
  const o = { ...flags, channel };
  if (o.anchor.length === 0) throw new ConfigError('BAD_ANCHOR', 'give at least one --anchor host:port');
  const anchors = o.anchor.map(parseAnchor);
  const id = loadSigningIdentity(o.msp, o.mspid, { now: new Date() });
  const c = client(o);
  let block;
  try {
    block = await c.fetchConfigBlock(o.channel, id.signer);
  } finally {
    c.close();
  }
  const { config } = configOfBlock(block);
  const updated = withAnchorPeers(config, o.org ?? o.mspid, anchors);
  const cu = encode(ConfigUpdateSchema, computeConfigUpdate(o.channel, config, updated));
  const env = configUpdateEnvelope({
    channelId: o.channel,
    configUpdate: cu,
    signatures: [signConfigUpdate(cu, id.signer)],
    submitter: id.signer,
    nowMs: Date.now(),
  });
  if (o.output) {
    try {
      writeFileSync(o.output, encode(EnvelopeSchema, env));
    } catch (e) {
      throw new ConfigError('OUTPUT', `cannot write ${o.output}: ${errorMessage(e)}`, { cause: e });
    }
    return `wrote the anchor peer update of ${o.org ?? o.mspid} for channel ${o.channel} to ${o.output}`;
  }
  return submit(o, env, o.channel);
}
