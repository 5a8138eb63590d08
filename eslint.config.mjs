// ESLint (typescript-eslint, without type information: fast enough to run on every CI run) and, through
// eslint-config-prettier, nothing that Prettier formats. `npm run lint` runs both.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', 'bench/results/**', 'libs/client/src/schema.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
          caughtErrors: 'none',
        },
      ],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Workflow code is replayed: it imports only the workflow SDK, its own modules and the workflow-safe contracts.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$)(?!(\\.\\./)+libs/contracts/src$)(?!\\.\\.?/(?!.*libs/)).*$',
              message: 'workflows/ imports only @temporalio/workflow, its own modules and libs/contracts (deterministic code only)',
            },
          ],
        },
      ],
    },
  },
  {
    // The ground floor: the driver contract and the contracts are workflow-safe (workflows import them), so they
    // import no driver implementation (libs/hypervisor), nothing of Nest or TypeORM and no Node built-in.
    files: ['libs/driver/src/**/*.ts', 'libs/contracts/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^@vmops/hypervisor$|/hypervisor/src|^@nestjs/|^typeorm$|^node:)',
              message: 'libs/driver and libs/contracts are workflow-safe: no driver implementation, Nest, TypeORM or Node built-ins',
            },
          ],
        },
      ],
    },
  },
  {
    // The domain rules are pure: they build on the driver contract, never on an implementation, Nest or TypeORM.
    files: ['libs/domain/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^@vmops/hypervisor$|/hypervisor/src|^@nestjs/|^typeorm$)',
              message: 'libs/domain is pure rules: no driver implementation, Nest or TypeORM',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benches read the API's JSON answers; the typed client is there where a test wants the types.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Scripts run by node as CommonJS files.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
