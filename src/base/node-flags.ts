/**
 * The Node.js/V8 flags of Grapevine's own processes (the `grapevine` command, and the peers and
 * orderer that `network up` starts), chosen for memory (issue 14, `npm run bench footprint`):
 *
 * - `--max-semi-space-size=1`: a young generation of 2 MiB. V8's default lets it grow to 32 MiB on a
 *   busy process and keeps it when idle; for a peer that is a quarter of its memory.
 * - `--lite-mode`: V8's interpreter only (no optimizing compiler, no executable code memory). A peer
 *   spends its CPU in signature checks, hashing, TLS and LevelDB, all native code; at 2 blocks/s its
 *   CPU is the same as with the compilers, and a 10,000-block catch-up is as fast (measured with
 *   `npm run bench footprint` and `npm run bench streams`), while RSS drops by about 10 MiB.
 * - `--no-expose-wasm`: lite mode has no WebAssembly; saying so keeps V8 from warning at each start.
 *   (Node's global fetch() needs WebAssembly; Grapevine does not use it.)
 *
 * Flags can only be given when a process starts: bin/grapevine.js carries these on its `#!` line
 * (test/cli/node-flags.test.ts checks that the two agree), and src/network/children.ts passes them
 * to every child. `node bin/grapevine.js ...` runs without them, with V8's defaults.
 */
export const LEAN_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--lite-mode',
  '--no-expose-wasm',
];
