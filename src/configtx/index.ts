/** Channel genesis blocks from configtx.yaml, as Fabric's configtxgen -outputBlock makes them. */
export { loadConfigtx, parseConfigtx } from './load.js';
export { buildGenesisBlock, buildChannelConfigGroup, type GenesisOptions } from './genesis.js';
export { ORDERER_DEFAULTS } from './orderer.js';
export { formatGoDuration, parseGoDuration, parseByteSize } from './scalars.js';
export type * from './types.js';
