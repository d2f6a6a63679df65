/**
 * GET /status documents of a small mixed network, for the dashboard's model and page tests
 * without sockets: Org1MSP's three Grapevine peers (peer0 and peer1 answer; peer1 leads channel
 * `ch`, peer0 streams its blocks from it), Org2MSP's three Fabric peers seen only as members
 * (their certificates name them). `heights` and `dead` say what the documents report.
 */
import type { MemberStatus, PeerStatusDocument, RefusedHandshakeStatus } from '../../src/node/status.js';

export const pki = (name: string): string => Buffer.from(name).toString('hex').slice(0, 64).padEnd(64, '0');

export interface NetFacts {
  /** Height of each peer on `ch`, by name. */
  heights: Record<string, number>;
  /** Peers the views see as dead. */
  dead: Set<string>;
  /** The alerts list answering peers send (absent: none sent, as a peer without alerts). */
  alerts?: unknown[];
  /** The refused handshakes the answering peer peer0.org1 reports (absent: none, an older peer). */
  refusedHandshakes?: RefusedHandshakeStatus[];
  /** Commit time base (ms since the epoch). */
  at: number;
}

export const ORG1 = ['peer0.org1.example.com', 'peer1.org1.example.com', 'peer2.org1.example.com'];
export const ORG2 = ['peer0.org2.example.com', 'peer1.org2.example.com', 'peer2.org2.example.com'];
export const ALL = [...ORG1, ...ORG2];
export const LEADER = 'peer1.org1.example.com';
const endpointOf = (name: string) => `127.0.0.1:${7000 + ALL.indexOf(name)}`;
export const orgOf = (name: string) => (ORG1.includes(name) ? 'Org1MSP' : 'Org2MSP');

export function facts(height: number): NetFacts {
  return { heights: Object.fromEntries(ALL.map((n) => [n, height])), dead: new Set(), at: 1_700_000_000_000 };
}

function member(name: string, self: string, f: NetFacts): MemberStatus {
  const ownOrg = orgOf(name) === orgOf(self);
  return {
    pkiId: pki(name),
    mspId: orgOf(name),
    endpoint: endpointOf(name),
    internalEndpoint: endpointOf(name),
    alive: !f.dead.has(name),
    lastSeen: new Date(f.at - (f.dead.has(name) ? 60_000 : 0)).toISOString(),
    cert: {
      subject: `C=US, O=${orgOf(name).replace('MSP', '').toLowerCase()}.example.com, CN=${name}`,
      notAfter: '2036-01-01T00:00:00.000Z',
      expired: false,
    },
    // as Grapevine's /status: a dead member's StateInfo is not listed
    channels: f.dead.has(name)
      ? []
      : [{ name: 'ch', height: f.heights[name], ...(ownOrg ? { leader: name === LEADER } : {}) }],
  };
}

/** The document `self` (an Org1MSP Grapevine peer) answers. */
export function statusDoc(self: string, f: NetFacts): PeerStatusDocument {
  const h = f.heights[self];
  const leader = self === LEADER;
  const block = h - 1;
  const doc: PeerStatusDocument = {
    time: new Date(f.at).toISOString(),
    peer: {
      id: self,
      mspId: orgOf(self),
      endpoint: endpointOf(self),
      pkiId: pki(self),
      version: '0.0.0-test',
      startedAt: new Date(f.at - 600_000).toISOString(),
      observer: false,
    },
    channels: [
      {
        name: 'ch',
        height: h,
        leader,
        mode: 'dynamic',
        stream: leader
          ? { plan: 'leader', depth: 0 }
          : { plan: 'upstream', upstream: { endpoint: endpointOf(LEADER), pkiId: pki(LEADER) }, depth: 1 },
      },
    ],
    members: ALL.filter((n) => n !== self).map((n) => member(n, self, f)),
    connections: ALL.filter((n) => n !== self && !f.dead.has(n) && orgOf(n) === 'Org1MSP').map((n) => ({
      pkiId: pki(n),
      endpoint: endpointOf(n),
      direction: 'out' as const,
    })),
    commits: [
      leader
        ? { channel: 'ch', block, at: new Date(f.at).toISOString(), source: 'orderer' as const }
        : {
            channel: 'ch',
            block,
            at: new Date(f.at + 3).toISOString(),
            source: 'stream' as const,
            from: pki(LEADER),
            fromEndpoint: endpointOf(LEADER),
          },
    ],
    refused: [],
    ...(f.refusedHandshakes && self === ORG1[0] ? { refusedHandshakes: f.refusedHandshakes } : {}),
    alerts: [],
  };
  return f.alerts ? ({ ...doc, alerts: f.alerts } as PeerStatusDocument) : doc;
}
