import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/.cache/**', '**/playwright-report/**', '**/test-results/**', 'infra/.cache/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    // The architecture in DESIGN.md: only an adapter imports its broker SDK; core stays pure.
    files: ['packages/core/src/**', 'packages/memory/src/**', 'packages/conformance/src/**', 'apps/server/src/**', 'apps/web/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kafkajs', message: 'Only packages/kafka imports kafkajs.' },
            { name: 'amqplib', message: 'Only packages/rabbitmq imports amqplib.' },
            { name: 'ioredis', message: 'Only packages/redis imports ioredis.' },
            { name: '@aws-sdk/client-sqs', message: 'Only packages/sqs imports the AWS SDK.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/core/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', '@mailroom/*'], message: 'core is pure: no I/O and no other Mailroom package.' }],
          paths: ['kafkajs', 'amqplib', 'ioredis', '@aws-sdk/client-sqs'],
        },
      ],
    },
  },
);
