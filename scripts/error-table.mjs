// Prints README's error-code table from the catalogue (after `npm run build`):
//   node scripts/error-table.mjs            the Markdown rows
//   node scripts/error-table.mjs --write    replaces the table in README.md
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { ERROR_CODES } = await import(new URL('../dist/error-codes.js', import.meta.url).href);
const EXIT = { operational: 1, usage: 2, verification: 3, interrupted: 130 };
const table = ['| code | exit | meaning |', '|---|---|---|', ...Object.entries(ERROR_CODES).map(([c, i]) => `| \`${c}\` | ${EXIT[i.kind]} | ${i.meaning} |`)].join('\n');
if (process.argv.includes('--write')) {
  const readme = fileURLToPath(new URL('../README.md', import.meta.url));
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf('| code | exit | meaning |');
  const end = text.indexOf('\n\n', start);
  if (start < 0 || end < 0) throw new Error('README.md has no error-code table to replace');
  writeFileSync(readme, text.slice(0, start) + table + text.slice(end));
} else {
  process.stdout.write(`${table}\n`);
}
