/**
 * Fabric logging specs: parsing (Fabric's grammar and error wording), the canonical form, the
 * hierarchical name rule, and LogLevels re-levelling live pino loggers of our components.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/base/errors.js';
import { formatLogSpec, LogLevels, parseLogSpec, specLevelFor } from '../../src/node/logspec.js';
import { componentLogger } from '../../src/base/log.js';

describe('parseLogSpec', () => {
  it('reads defaults and logger levels; prints the canonical form', () => {
    assert.equal(formatLogSpec(parseLogSpec('')), 'info');
    assert.equal(formatLogSpec(parseLogSpec('debug')), 'debug');
    assert.equal(formatLogSpec(parseLogSpec('info:gossip.discovery=debug')), 'gossip.discovery=debug:info');
    assert.equal(
      formatLogSpec(parseLogSpec('grpc=error:WARNING:gossip,deliveryClient=DEBUG')),
      'deliveryClient=debug:gossip=debug:grpc=error:warn',
    );
    assert.equal(formatLogSpec(parseLogSpec('notice:x=critical')), 'x=error:info');
    assert.equal(formatLogSpec(parseLogSpec('debug:info')), 'info', 'the last default wins');
  });

  const BAD: [string, string][] = [
    ['loud', "invalid logging specification 'loud': bad segment 'loud'"],
    ['Debug', "invalid logging specification 'Debug': bad segment 'Debug'"],
    ['=debug', "invalid logging specification '=debug': no logger specified in segment '=debug'"],
    ['a=b=c', "invalid logging specification 'a=b=c': bad segment 'a=b=c'"],
    ['gossip..x=debug', "invalid logging specification 'gossip..x=debug': bad logger name 'gossip..x'"],
    ['a,,b=info', "invalid logging specification 'a,,b=info': bad logger name ''"],
    [
      'info:gossip=verbose',
      "invalid logging specification 'info:gossip=verbose': bad segment 'gossip=verbose'",
    ],
  ];
  for (const [spec, message] of BAD) {
    it(`refuses ${JSON.stringify(spec)} with Fabric's message`, () => {
      assert.throws(
        () => parseLogSpec(spec),
        (e: unknown) => e instanceof ConfigError && e.code === 'BAD_LOGSPEC' && e.message === message,
      );
    });
  }

  it('applies a name to its descendants; a trailing dot to the logger only', () => {
    const p = parseLogSpec('gossip=warn:gossip.discovery.=debug:info');
    assert.equal(specLevelFor(p, 'gossip'), 'warn');
    assert.equal(specLevelFor(p, 'gossip.comm'), 'warn');
    assert.equal(specLevelFor(p, 'gossip.discovery'), 'debug');
    assert.equal(specLevelFor(p, 'gossip.discovery.x'), 'warn');
    assert.equal(specLevelFor(p, 'gossipx'), undefined);
    assert.equal(specLevelFor(p, 'deliveryClient'), undefined);
  });
});

describe('LogLevels', () => {
  const sink = () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    return { lines, stream };
  };

  it('levels component loggers by their Fabric names, and by their own names', () => {
    const levels = new LogLevels({ spec: 'info:gossip.discovery=debug:election=warn:deliveryClient=error' });
    const discovery = componentLogger('discovery', {}, levels.root);
    const comm = componentLogger('comm', {}, levels.root);
    const election = componentLogger('election', { channel: 'ch1' }, levels.root);
    const deliver = componentLogger('deliver', {}, levels.root);
    assert.deepEqual(
      [discovery.level, comm.level, election.level, deliver.level, levels.root.level],
      ['debug', 'info', 'warn', 'error', 'info'],
    );
  });

  it('re-levels existing loggers and their children when the spec changes; a bad spec changes nothing', () => {
    const { lines, stream } = sink();
    const levels = new LogLevels({ destination: stream });
    const discovery = componentLogger('discovery', {}, levels.root);
    const perChannel = discovery.child({ channel: 'ch1' });
    discovery.debug('hidden');
    levels.activateSpec('warn:gossip=debug');
    assert.equal(levels.spec(), 'gossip=debug:warn');
    assert.equal(discovery.level, 'debug');
    assert.equal(perChannel.level, 'debug', 'a grandchild keeps its component binding');
    assert.equal(levels.root.level, 'warn');
    discovery.debug('shown');
    assert.throws(() => levels.activateSpec('gossip=nonsense'), ConfigError);
    assert.equal(levels.spec(), 'gossip=debug:warn');
    assert.equal(discovery.level, 'debug');
    levels.activateSpec('payload');
    assert.equal(perChannel.level, 'trace');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).msg),
      ['shown'],
    );
    assert.equal(levels.trackedCount(), 2);
  });

  it('refuses a bad initial spec', () => {
    assert.throws(() => new LogLevels({ spec: 'info:=debug' }), /no logger specified/);
  });
});
