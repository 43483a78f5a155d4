// ESLint flat config: typescript-eslint recommended, plus the architecture rule that the domain
// imports no SDK (it talks to ports; adapters translate).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SDK_IMPORTS = [
  { group: ['ioredis', 'ioredis/*'], message: 'src/domain talks to ports; Redis belongs in src/adapters/redis.' },
  { group: ['@azure/*'], message: 'src/domain talks to ports; Azure SDKs belong in src/adapters.' },
  { group: ['ws', 'ws/*'], message: 'src/domain must not know the socket library; see src/server.' },
  { group: ['fastify', 'fastify/*', '@fastify/*'], message: 'src/domain must not know the HTTP framework.' },
  { group: ['pino', 'pino/*', 'prom-client', 'openai', 'openai/*', 'rhea', 'jose'], message: 'src/domain imports no SDK or framework.' },
  { group: ['**/adapters/**', '**/server/**', '../main.js', '../config.js'], message: 'src/domain depends on nothing outside itself.' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', fetch: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    // The console's page scripts run in the browser.
    files: ['src/server/console/assets/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', window: 'readonly', location: 'readonly', EventSource: 'readonly', fetch: 'readonly', setInterval: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: SDK_IMPORTS }],
    },
  },
);
