export { BlockStore, type AppendOptions, type StoredBlock, type LedgerStats } from './store.js';
export { LedgerError, type LedgerErrorCode } from './errors.js';
export { LEDGER_DEFAULTS, type BlockStoreOptions, type LedgerLogger } from './config.js';
export type { RecoveryReport } from './recovery.js';
export { blockFileName } from './blockfiles.js';
export { RECORD_HEADER_BYTES } from './record.js';
export { blockFacts, type BlockFacts } from './inspect.js';
export { RecoverableLedger } from './recoverable.js';
