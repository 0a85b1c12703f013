// Lint: typescript-eslint's recommended rules over lib/, test/, bench/ and scripts/.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'build-*/',
      'prebuilds/',
      'node_modules/',
      'coverage/',
      'bench/out/',
      'received/',
      'test/fixtures/pdfs/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...require('globals').node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
