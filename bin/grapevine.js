#!/usr/bin/env node
// The `grapevine` command. It runs the TypeScript CLI in this same process (tsx's loader is
// registered here, resolved from this package, so it works from any folder), so signals sent to
// `grapevine` (systemd, `timeout`, a container stop, Ctrl-C) reach the peer or orderer directly:
// no second process is left behind holding ports and the ledger lock.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv);
