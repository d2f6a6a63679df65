import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/base/errors.js';
import {
  parseCryptoConfig,
  renderCryptoConfig,
  renderTemplate,
  validateCryptoConfig,
} from '../../src/cryptogen/index.js';
import { SKIP_VECTORS, vectorPath } from '../helpers/vectors.js';

function configError(fn: () => unknown, code: string, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
      else assert.match(e.message, f);
    }
    return true;
  });
}

describe('parseCryptoConfig', () => {
  it('reads the vectors crypto-config.yaml and expands it as cryptogen', { skip: SKIP_VECTORS }, () => {
    const config = parseCryptoConfig(readFileSync(vectorPath('config', 'crypto-config.yaml'), 'utf8'));
    const orgs = renderCryptoConfig(config);
    assert.deepEqual(
      orgs.map((o) => [o.kind, o.domain, o.nodeOUs, o.ca.commonName, o.users]),
      [
        [
          'peer',
          'org1.example.com',
          true,
          'ca.org1.example.com',
          ['User1@org1.example.com', 'Admin@org1.example.com'],
        ],
        [
          'peer',
          'org2.example.com',
          true,
          'ca.org2.example.com',
          ['User1@org2.example.com', 'Admin@org2.example.com'],
        ],
        ['orderer', 'example.com', true, 'ca.example.com', ['Admin@example.com']],
      ],
    );
    assert.deepEqual(orgs[0].nodes[2], {
      commonName: 'peer2.org1.example.com',
      hostname: 'peer2',
      sans: ['peer2.org1.example.com', 'peer2', 'localhost', '127.0.0.1'],
    });
    assert.deepEqual(
      orgs[2].nodes.map((n) => n.commonName),
      ['orderer0.example.com'],
    );
  });

  it('expands Specs, Template (Start, Hostname) and SANS templates; adds loopback SANs', () => {
    const orgs = renderCryptoConfig(
      parseCryptoConfig(`
PeerOrgs:
  - Name: Org3
    Domain: org3.example.com
    CA: { Hostname: myca, Country: DE, OrganizationalUnit: Fabric }
    Specs:
      - Hostname: foo
        CommonName: "foo27.{{.Domain}}"
        SANS: ["bar.{{.Domain}}", "{{.Hostname}}.org6.net", "{{ .CommonName }}", 172.16.10.31, "::1"]
    Template:
      Count: 2
      Start: 5
      Hostname: "node{{.Index}}-{{.Prefix}}"
      SANS: ["{{.Hostname}}.alt.{{.Domain}}"]
    Users: { Count: 2 }
`),
    );
    const [o] = orgs;
    assert.deepEqual(o.ca, {
      commonName: 'myca.org3.example.com',
      country: 'DE',
      province: 'California',
      locality: 'San Francisco',
      organizationalUnit: 'Fabric',
    });
    assert.deepEqual(o.nodes, [
      {
        commonName: 'foo27.org3.example.com',
        hostname: 'foo',
        sans: [
          'foo27.org3.example.com',
          'foo',
          'bar.org3.example.com',
          'foo.org6.net',
          '172.16.10.31',
          '::1',
          'localhost',
          '127.0.0.1',
        ],
      },
      {
        commonName: 'node5-peer.org3.example.com',
        hostname: 'node5-peer',
        sans: [
          'node5-peer.org3.example.com',
          'node5-peer',
          'node5-peer.alt.org3.example.com',
          'localhost',
          '127.0.0.1',
        ],
      },
      {
        commonName: 'node6-peer.org3.example.com',
        hostname: 'node6-peer',
        sans: [
          'node6-peer.org3.example.com',
          'node6-peer',
          'node6-peer.alt.org3.example.com',
          'localhost',
          '127.0.0.1',
        ],
      },
    ]);
    assert.deepEqual(o.users, ['User1@org3.example.com', 'User2@org3.example.com', 'Admin@org3.example.com']);
    assert.equal(o.nodeOUs, false);
  });

  it('orderer orgs get Admin only and "orderer" hostnames', () => {
    const [o] = renderCryptoConfig(
      parseCryptoConfig(
        'OrdererOrgs:\n  - Domain: ex.com\n    Template: {Count: 2}\n    Users: {Count: 3}\n',
      ),
    );
    assert.deepEqual(
      o.nodes.map((n) => n.commonName),
      ['orderer0.ex.com', 'orderer1.ex.com'],
    );
    assert.deepEqual(o.users, ['Admin@ex.com']);
  });

  it('broken YAML is a ConfigError naming the file, line and column', () => {
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Name: Org1\n   Domain: x\n', 'my.yaml'),
      'CRYPTO_CONFIG_YAML',
      'my.yaml: not valid YAML',
      'line 3',
    );
    configError(
      () => parseCryptoConfig('a: [1,\n'),
      'CRYPTO_CONFIG_YAML',
      'crypto-config.yaml: not valid YAML',
    );
    configError(() => parseCryptoConfig('PeerOrgs: []\nPeerOrgs: []\n'), 'CRYPTO_CONFIG_YAML', 'unique');
    configError(() => parseCryptoConfig('- 1\n- 2\n'), 'CRYPTO_CONFIG_INVALID', 'expected a mapping');
  });

  it('a missing or empty Domain says which org and what to put there', () => {
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Name: Org1\n    Template: {Count: 1}\n'),
      'CRYPTO_CONFIG_INVALID',
      'PeerOrgs[0].Domain',
      'is required',
      'org1.example.com',
    );
    configError(
      () => parseCryptoConfig('OrdererOrgs:\n  - Domain: ""\n'),
      'CRYPTO_CONFIG_INVALID',
      'OrdererOrgs[0].Domain',
      'must not be empty',
    );
  });

  it('rejects typos, wrong types, and unsupported values with the key at fault', () => {
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Users: {count: 1}\n'),
      'CRYPTO_CONFIG_INVALID',
      'PeerOrgs[0].Users',
      '"count"',
      'did you mean "Count"',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Template: {Count: -1}\n'),
      'CRYPTO_CONFIG_INVALID',
      'PeerOrgs[0].Template.Count',
      '0 or more',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    EnableNodeOUs: yes please\n'),
      'CRYPTO_CONFIG_INVALID',
      'PeerOrgs[0].EnableNodeOUs',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Users: {PublicKeyAlgorithm: ed25519}\n'),
      'CRYPTO_CONFIG_INVALID',
      'PublicKeyAlgorithm',
      'ecdsa',
    );
    configError(() => parseCryptoConfig('Orgs: []\n'), 'CRYPTO_CONFIG_INVALID', '"Orgs"');
    configError(() => parseCryptoConfig(''), 'CRYPTO_CONFIG_INVALID', 'no organizations');
  });

  it('rejects bad templates, clashing names and unsafe folder names', () => {
    configError(
      () =>
        parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Template: {Count: 1, Hostname: "{{.Foo}}"}\n'),
      'CRYPTO_CONFIG_TEMPLATE',
      'PeerOrgs[0].Template.Hostname',
      '{{.Prefix}}',
    );
    configError(
      () =>
        parseCryptoConfig(
          'PeerOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: x, SANS: ["{{.Hostname"]}]\n',
        ),
      'CRYPTO_CONFIG_TEMPLATE',
      'SANS[0]',
      'unterminated',
    );
    configError(
      () =>
        parseCryptoConfig(
          'PeerOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: peer0}]\n    Template: {Count: 1}\n',
        ),
      'CRYPTO_CONFIG_INVALID',
      '"peer0.a.com" is already defined',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n  - Domain: a.com\n'),
      'CRYPTO_CONFIG_INVALID',
      'PeerOrgs[1].Domain',
      'already used',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: ../evil\n'),
      'CRYPTO_CONFIG_INVALID',
      'folder name',
    );
    configError(
      () =>
        parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Specs: [{Hostname: x, CommonName: "a/b"}]\n'),
      'CRYPTO_CONFIG_INVALID',
      'Specs[0].CommonName',
    );
    configError(
      () => parseCryptoConfig('PeerOrgs:\n  - Domain: a.com\n    Specs: [{CommonName: x}]\n'),
      'CRYPTO_CONFIG_INVALID',
      'Specs[0].Hostname: is required',
    );
  });

  it('accepts YAML 1.1 booleans for EnableNodeOUs, as Go yaml.v2 does', () => {
    const on = (v: string) =>
      renderCryptoConfig(parseCryptoConfig(`PeerOrgs:\n  - Domain: a.com\n    EnableNodeOUs: ${v}\n`))[0]
        .nodeOUs;
    assert.deepEqual(['yes', 'On', 'true', 'no', 'off', 'false'].map(on), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('validateCryptoConfig checks objects built in code the same way', () => {
    configError(
      () => validateCryptoConfig({ PeerOrgs: [{ Name: 'x' }] }, 'test'),
      'CRYPTO_CONFIG_INVALID',
      'test: PeerOrgs[0].Domain',
    );
    assert.equal(validateCryptoConfig({ PeerOrgs: [{ Domain: 'a.com' }] }).PeerOrgs?.[0].Domain, 'a.com');
  });

  it('never throws anything but ConfigError on arbitrary text', () => {
    const yamlish = fc.stringMatching(/^[ \-:{}[\]"'a-zA-Z0-9.\n*&!|>#%@,]*$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish), (text) => {
        try {
          parseCryptoConfig(text);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('renderTemplate', () => {
  it('substitutes fields, trims with {{- -}}, and leaves plain text alone', () => {
    assert.equal(renderTemplate('{{.Prefix}}{{.Index}}', { Prefix: 'peer', Index: 3 }, 'k'), 'peer3');
    assert.equal(renderTemplate('a  {{- .X -}}  b', { X: 'x' }, 'k'), 'axb');
    assert.equal(renderTemplate('10.0.0.1', {}, 'k'), '10.0.0.1');
  });
  it('rejects functions, pipelines and unknown fields', () => {
    configError(
      () => renderTemplate('{{printf "%d" .Index}}', { Index: 1 }, 'k'),
      'CRYPTO_CONFIG_TEMPLATE',
      'k: unsupported template',
    );
    configError(
      () => renderTemplate('{{.Hostname}}', { Domain: 'd' }, 'k'),
      'CRYPTO_CONFIG_TEMPLATE',
      '{{.Domain}}',
    );
  });
});
