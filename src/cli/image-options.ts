/** The options every image command shares (which release, which platform). */
import type { Command } from 'commander';

export interface ImageOptions {
  version?: string;
  arch?: string;
  model?: string;
  k3s?: string;
}

export function imageOptions(cmd: Command): Command {
  return cmd
    .option('--version <v>', 'Kairos release, e.g. v1.5.1 (default: the newest release on the registry)')
    .option('--k3s <v>', 'k3s version of a standard image, e.g. v1.26.1+k3s1 (default: the newest the release publishes)')
    .option('--arch <arch>', 'amd64 or arm64 (default: the host\'s, arm64 for Raspberry Pi flavors)')
    .option('--model <model>', 'board model for v2.4.2+ names: generic, rpi3, rpi4');
}
