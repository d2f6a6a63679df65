#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt --optimize-for-size
// The `grapevine` command. It runs the CLI in this same process, so signals sent to `grapevine`
// (systemd, `timeout`, a container stop, Ctrl-C) reach the peer or orderer directly: no second
// process is left behind holding ports and the ledger lock.
//
// An installed package (and a checkout after `npm run build`) runs the compiled code in dist/.
// A checkout without a build runs the TypeScript sources through tsx's loader (a dev dependency),
// resolved from this package so it works from any folder. GRAPEVINE_FROM_SOURCE=1 forces the
// sources in a checkout that has a (possibly stale) dist/.
//
// node:fs by process.getBuiltinModule, not `import`: importing a built-in builds its ES module
// namespace, which reads every export, and fs's stream getters then load Node's whole stream
// stack (~10 ms of every command's start).
const { existsSync } = process.getBuiltinModule('node:fs');

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/cli/main.ts', import.meta.url);

let entry = compiled;
if (!existsSync(compiled) || (process.env.GRAPEVINE_FROM_SOURCE === '1' && existsSync(sources))) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error(
      'grapevine: no compiled code (dist/) and no tsx to run the sources: run `npm run build`, or `npm install` for the dev dependencies',
    );
    process.exit(1);
  }
  register();
  entry = sources;
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv, { printDirectly: true });
