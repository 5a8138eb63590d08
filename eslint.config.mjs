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
