import type { Command } from 'commander';
import { buildMatrix, describePins, describePublished, loadCatalog, type Matrix } from '../../catalog/index.js';
import { table, type CommandResult } from '../render.js';
import type { CommandSpec } from '../command.js';

export const flavorsCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('flavors')
      .description('the Kairos support matrix: flavor × variant → repository, arches, upstream pin')
      .option('--version <v>', 'show the flavors, naming and pins of this Kairos release (default: the newest the catalog knows)')
      .addHelpText('after', '\nExamples:\n  kairos-img flavors\n  kairos-img flavors --version v3.2.1\n  kairos-img flavors --version v1.5.0 --json   # the seed table')
      .action(run(async (ctx, _args, opts: { version?: string }): Promise<CommandResult<Matrix>> => {
        const catalog = await loadCatalog('kairos');
        const data = buildMatrix(catalog, { version: opts.version, registry: ctx.registry });
        return {
          data,
          human: (m, style) => {
            const rows = m.rows.map((r) => [
              r.flavor, r.variant, r.repository, r.arches.join(','), r.models.join(','), (r.flavorReleases ?? []).join(',') || '-',
              (r.kubernetes ?? []).join(',') || '-', describePins(r.pins),
              describePublished(r.published) + (r.replacedBy === undefined ? '' : ` → ${r.replacedBy.join(', ')}`),
            ]);
            const title = `Kairos images at ${m.version ?? ''} (${m.era} naming)`;
            return `${style.dim(title)}\n${table(['FLAVOR', 'VARIANT', 'REPOSITORY', 'ARCHES', 'MODELS', 'FLAVOR RELEASES', 'KUBERNETES', 'UPSTREAM PIN', 'PUBLISHED'], rows, style)}`;
          },
        };
      }));
  },
};
