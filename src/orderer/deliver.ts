/**
 * The orderer's Deliver handler: the shared one (comm/deliver/server.ts, Fabric's algorithm, its
 * statuses and checks) over the orderer's Chains. A Grapevine peer serves the same handler over
 * its ledgers (service/deliversource.ts).
 */
import {
  handleDeliver as serveDeliver,
  type DeliverDeps as SourceDeliverDeps,
  type DeliverIO,
} from '../comm/deliver/server.js';
import type { Chain } from './chain.js';

export {
  CHANNEL_ORDERER_READERS,
  CHANNEL_READERS,
  DeliverStreamError,
  type DeliverIO,
} from '../comm/deliver/server.js';

export interface DeliverDeps extends Omit<SourceDeliverDeps, 'source'> {
  chain(channelId: string): Chain | undefined;
}

/** Serve one Deliver stream until the client hangs up or a non-SUCCESS status was sent. */
export function handleDeliver(io: DeliverIO, deps: DeliverDeps): Promise<void> {
  return serveDeliver(io, { ...deps, source: (id) => deps.chain(id) });
}
