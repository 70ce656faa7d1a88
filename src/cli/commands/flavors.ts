import type { Command } from 'commander';
import { buildMatrix, describePins, describePublished, loadCatalog, type Matrix } from '../../catalog/index.js';
import { table, type CommandResult } from '../render.js';
import type { CommandSpec } from '../command.js';

export const flavorsCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('flavors')
      .description('the Kairos support matrix: flavor × variant → repository, arches, upstream pin')
      .option('--version <v>', 'show the naming and pins in force at this Kairos release (default: the seed table, v1 naming)')
      .addHelpText('after', '\nExamples:\n  kairos-img flavors\n  kairos-img flavors --version v2.4.3 --json')
      .action(run(async (ctx, _args, opts: { version?: string }): Promise<CommandResult<Matrix>> => {
        const catalog = await loadCatalog('kairos');
        const data = buildMatrix(catalog, { version: opts.version, registry: ctx.registry });
        return {
          data,
          human: (m, style) => {
            const rows = m.rows.map((r) => [
              r.flavor, r.variant, r.repository, r.arches.join(','), describePins(r.pins),
              describePublished(r.published) + (r.replacedBy === undefined ? '' : ` → ${r.replacedBy.join(', ')}`),
            ]);
            const title = m.version === undefined ? `Kairos images (naming of the ${m.era} era, as in the seed table)` : `Kairos images at ${m.version} (${m.era} naming)`;
            return `${style.dim(title)}\n${table(['FLAVOR', 'VARIANT', 'REPOSITORY', 'ARCHES', 'UPSTREAM PIN', 'PUBLISHED'], rows, style)}`;
          },
        };
      }));
  },
};
