/**
 * The Node.js/V8 flags of Grapevine's own processes (the `grapevine` command, and the peers and
 * orderer that `network up` starts), chosen for memory (issue 14, `npm run bench footprint`):
 *
 * - `--max-semi-space-size=1`: a young generation of 2 MiB. V8's default lets it grow to 32 MiB on a
 *   busy process and keeps it when idle; for a peer that is a quarter of its memory.
 * - `--no-opt`, `--optimize-for-size`: no optimizing compiler (V8 keeps its interpreter and its
 *   baseline compiler) and V8's denser object layouts. A peer spends its CPU in signature checks,
 *   hashing, TLS and LevelDB, all native code: at 2 blocks/s its CPU is Fabric's, and its RSS drops
 *   by ~8 MiB to about a Fabric v2.4.9 peer's (`npm run bench footprint`).
 *   `--lite-mode` (interpreter only) saves ~3 MiB more but made a 10,000-block catch-up ~15 % slower
 *   (`npm run bench streams`, part net, catchup) and takes WebAssembly, so Node's fetch(), away.
 *
 * Flags can only be given when a process starts: bin/grapevine.js carries these on its `#!` line
 * (test/cli/node-flags.test.ts checks that the two agree), and src/network/children.ts passes them
 * to every child. `node bin/grapevine.js ...` runs without them, with V8's defaults.
 */
export const LEAN_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-opt',
  '--optimize-for-size',
];
