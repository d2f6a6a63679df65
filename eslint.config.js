import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'child_process',
  'cluster',
  'worker_threads',
  'timers',
  'timers/promises',
  'os',
  'readline',
  'process',
  'perf_hooks',
]
  .flatMap((m) => [m, `node:${m}`])
  .concat(['@grpc/grpc-js', 'classic-level', 'pino', 'pino-pretty']);

// Relative imports out of src/core that would cross the I/O edge (the layering test checks the rest).
const CORE_FORBIDDEN_PATH =
  '^(\\.\\./)+(comm|sim|service|ops|node|orderer|network|cli|dashboard)/|' +
  '^(\\.\\./)+(base/real-clock|ledger/(store|blockfiles|indexdb|recovery|groupcommit)|identity/mspdir)\\.';

export default tseslint.config(
  { ignores: ['node_modules/', 'src/wire/gen/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The protocol core does no I/O (docs/architecture.md): no sockets, files, threads, timers,
    // wall clock or ambient randomness. Time and randomness come from the injected Clock and Rng.
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({
            name,
            message: 'src/core does no I/O: take it through an injected interface',
            allowTypeImports: true,
          })),
          patterns: [
            {
              regex: CORE_FORBIDDEN_PATH,
              message:
                'src/core may import only base (not real-clock), wire, identity, channelconfig, ledger types and itself',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'setTimeout',
          'setInterval',
          'setImmediate',
          'clearTimeout',
          'clearInterval',
          'clearImmediate',
        ].map((name) => ({ name, message: 'use the injected Clock' })),
        { name: 'performance', message: 'use the injected Clock' },
        { name: 'process', message: 'src/core does not read the process' },
        { name: 'fetch', message: 'src/core does no I/O' },
        { name: 'require', message: 'src/core does no I/O' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'use the injected Clock',
        },
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'use the injected Clock',
        },
        {
          selector: "MemberExpression[object.name='Math'][property.name='random']",
          message: 'use the injected Rng',
        },
        { selector: 'ImportExpression', message: 'src/core loads no modules at run time' },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
