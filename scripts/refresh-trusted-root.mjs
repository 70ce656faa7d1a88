#!/usr/bin/env node
// Rebuilds trust/trusted_root.json, the Sigstore public-good trusted root kairos-img ships for
// offline verification, from the copy embedded in @sigstore/tuf (seeds.json: the TUF repository
// https://tuf-repo-cdn.sigstore.dev as of that package's release, verified by its maintainers'
// release process). To refresh: bump @sigstore/tuf (devDependency) and run
//   node scripts/refresh-trusted-root.mjs
// then review the diff (new keys, changed validity windows) and commit it.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const REPO = 'https://tuf-repo-cdn.sigstore.dev';
const seedsFile = require.resolve('@sigstore/tuf/seeds.json');
const seeds = JSON.parse(await readFile(seedsFile, 'utf8'));
const target = seeds[REPO]?.targets?.['trusted_root.json'];
if (typeof target !== 'string') throw new Error(`${seedsFile} has no trusted_root.json target for ${REPO}`);
const root = JSON.parse(Buffer.from(target, 'base64').toString('utf8'));
if (!String(root.mediaType).startsWith('application/vnd.dev.sigstore.trustedroot')) throw new Error(`unexpected mediaType ${root.mediaType}`);
const { version } = JSON.parse(await readFile(path.join(path.dirname(seedsFile), 'package.json'), 'utf8'));
const out = fileURLToPath(new URL('../trust/trusted_root.json', import.meta.url));
await writeFile(`${out}.tmp`, `${JSON.stringify(root, null, 2)}\n`);
await rename(`${out}.tmp`, out);
console.log(`wrote ${path.relative(process.cwd(), out)} from @sigstore/tuf ${version} (${root.certificateAuthorities.length} CAs, ${root.tlogs.length} tlogs, ${root.ctlogs.length} CT logs, ${(root.timestampAuthorities ?? []).length} TSAs)`);
