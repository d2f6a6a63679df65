// Generates TypeScript wire types (protobuf-es) from the .proto files of the
// fabric-protos@2.2.20 npm package. Runs on `npm install` (prepare); output is not committed.
//
// fabric-protos 2.2.20 predates one field that Fabric v2.4.9 peers put on the wire:
// ConnEstablish.probe = 4 (sent by Fabric's Handshake() towards bootstrap/anchor peers).
// We copy the package's protos to a temporary folder and add exactly that field, so the
// generated types match what v2.4.9 sends. Nothing else is changed.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoRoot = join(root, 'node_modules', 'fabric-protos', 'protos');
const out = join(root, 'src', 'wire', 'gen');
const bin = join(root, 'node_modules', '.bin');

if (!existsSync(protoRoot)) {
  console.error(`gen-protos: ${protoRoot} is missing; run npm install first`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'grapevine-protos-'));
try {
  cpSync(protoRoot, work, { recursive: true });
  const gossipProto = join(work, 'gossip', 'message.proto');
  const text = readFileSync(gossipProto, 'utf8');
  const anchor = /(message ConnEstablish \{[^}]*bytes tls_cert_hash\s*=\s*3;)/;
  if (!anchor.test(text)) throw new Error('gen-protos: ConnEstablish not found in gossip/message.proto');
  if (!/bool\s+probe\s*=\s*4;/.test(text)) {
    writeFileSync(gossipProto, text.replace(anchor, '$1\n    bool probe            = 4;'));
  }

  const template = JSON.stringify({
    version: 'v2',
    plugins: [{ local: join(bin, 'protoc-gen-es'), out, opt: ['target=ts', 'import_extension=js'] }],
  });
  rmSync(out, { recursive: true, force: true });
  execFileSync(join(bin, 'buf'), ['generate', work, '--template', template], {
    cwd: root,
    stdio: 'inherit',
  });
  console.log(`gen-protos: wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
