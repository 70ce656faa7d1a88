import type { CommandSpec } from '../command.js';

interface CommandEntry {
  name: string;
  load: () => Promise<CommandSpec>;
}

/**
 * Every command of the CLI, in the order `--help` lists them, each module loaded only when the run
 * needs it: a command's module brings its operations (the registry client, sigstore, the catalog,
 * listr2), and one run needs one command, not fourteen.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'flavors', load: async () => (await import('./flavors.js')).flavorsCommand },
  { name: 'resolve', load: async () => (await import('./resolve.js')).resolveCommand },
  { name: 'tags', load: async () => (await import('./tags.js')).tagsCommand },
  { name: 'releases', load: async () => (await import('./releases.js')).releasesCommand },
  { name: 'diff', load: async () => (await import('./diff.js')).diffCommand },
  { name: 'pull', load: async () => (await import('./pull.js')).pullCommand },
  { name: 'extract-img', load: async () => (await import('./extract-img.js')).extractImgCommand },
  { name: 'unpack', load: async () => (await import('./unpack.js')).unpackCommand },
  { name: 'verify', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'signature', load: async () => (await import('./signature.js')).signatureCommand },
  { name: 'sbom', load: async () => (await import('./sbom.js')).sbomCommand },
  { name: 'artifact', load: async () => (await import('./artifact.js')).artifactCommand },
  { name: 'mirror', load: async () => (await import('./mirror.js')).mirrorCommand },
  { name: 'talos', load: async () => (await import('./talos.js')).talosCommand },
];

/**
 * The first argument that is not an option (or the value of one of `valueFlags`, the global options
 * that take one): the command's name, if any.
 */
export function commandName(argv: readonly string[], valueFlags: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return argv[i + 1];
    if (valueFlags.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The commands a run registers: the one it names; none for a bare `--version`; every one when it
 * names none or an unknown one (the help lists them all, and commander suggests the nearest).
 */
export async function commandsFor(argv: readonly string[], valueFlags: ReadonlySet<string>): Promise<CommandSpec[]> {
  const name = commandName(argv, valueFlags);
  if (name === undefined && (argv.includes('--version') || argv.includes('-V'))) return [];
  const one = COMMANDS.find((c) => c.name === name);
  return Promise.all((one === undefined ? COMMANDS : [one]).map((c) => c.load()));
}
