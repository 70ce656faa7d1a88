// ESLint (flat config): a small rule set, each rule for a reason.
// - recommended JS and TypeScript rules: real mistakes (unused code, wrong comparisons, `any`).
// - type-aware promise rules: a floating or misused promise in stream code is an unhandled
//   rejection or a step that silently does not wait — the kind of bug that exits 0 with nothing done.
// - the architecture, as import rules: only src/cli/ imports listr2 or prints; modules below the
//   operations never import them or the CLI (design: pure core < I/O edges < operations < cli).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const layered = (forbidden, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-console': 'error',
      ...layered(['listr2', '**/cli/**'], 'only src/cli/ renders output: report progress as typed events (onEvent) instead'),
    },
  },
  {
    files: ['src/{reference,oci,catalog,policy,version,registry,store,unpack,artifacts,engine}/**/*.ts'],
    rules: layered(['listr2', '**/cli/**', '**/operations/**'], 'modules below the operations import neither operations nor the CLI'),
  },
  {
    // Tests poke at loosely typed documents (YAML mutated into broken shapes); no module boundary there.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
);
