import type { CommandSpec } from '../command.js';
import { flavorsCommand } from './flavors.js';
import { resolveCommand } from './resolve.js';
import { tagsCommand } from './tags.js';
import { pullCommand } from './pull.js';
import { extractImgCommand } from './extract-img.js';
import { unpackCommand } from './unpack.js';
import { verifyCommand } from './verify.js';
import { talosCommand } from './talos.js';
import { releasesCommand } from './releases.js';
import { diffCommand } from './diff.js';
import { signatureCommand } from './signature.js';
import { sbomCommand } from './sbom.js';
import { artifactCommand } from './artifact.js';
import { mirrorCommand } from './mirror.js';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly CommandSpec[] = [flavorsCommand, resolveCommand, tagsCommand, releasesCommand, diffCommand, pullCommand, extractImgCommand, unpackCommand, verifyCommand, signatureCommand, sbomCommand, artifactCommand, mirrorCommand, talosCommand];
