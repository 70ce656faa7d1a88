import type { Command } from 'commander';
import { loadTalosMatrix } from '../../catalog/talos/load.js';
import { findReleases } from '../../catalog/talos/find.js';
import { checkTalos } from '../../catalog/talos/check.js';
import { renderGrid } from '../render/grid.js';
import { columnsNewestFirst, matrixMarkdown, matrixTable, talosCheckJson, talosCheckText } from '../render/talos.js';
import { isoDate } from '../../catalog/talos/dates.js';
import type { TalosRelease } from '../../catalog/talos/types.js';
import { usageError } from '../../errors.js';
import type { CommandResult } from '../render.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';

interface MatrixData {
  os: string;
  name: string;
  /** Newest first, as the table's columns. */
  versions: TalosRelease[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** A subcommand of `talos` with the global options (--json, --quiet, …), which the program adds to its own commands only. */
function subcommand(parent: Command, name: string): Command {
  const sub = parent.command(name);
  for (const option of parent.options) sub.addOption(option);
  return sub;
}

/** The terminal's width when stdout is one; COLUMNS, or a wide default, when it is piped. */
function outputWidth(ctx: CliContext): number {
  const columns = (ctx.stdout as { columns?: number }).columns;
  if (typeof columns === 'number' && columns > 0) return columns;
  const env = Number(ctx.env['COLUMNS']);
  return Number.isInteger(env) && env > 0 ? env : 120;
}

export const talosCommand: CommandSpec = {
  register(program: Command, run) {
    const talos = program
      .command('talos')
      .description('the Talos Linux support matrix: show it, and check a combination against it')
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img talos matrix --version 1.3,1.2',
        '  kairos-img talos check --talos 1.3 --kubernetes 1.26 --platform aws --on 2023-03-16',
        '  kairos-img pull talos installer --version v1.3.7     # Talos images resolve like Kairos ones',
      ].join('\n'));

    subcommand(talos, 'matrix')
      .description('the Talos support matrix, one column per version, newest first')
      .option('--version <v>', 'only these versions (repeatable, or comma-separated: --version 1.3,1.2)', collect, [])
      .option('--markdown', 'print the table as Markdown, with the links of the published matrix')
      .addHelpText('after', '\nExamples:\n  kairos-img talos matrix --version 1.3 --version 1.2\n  kairos-img talos matrix --json')
      .action(run(async (ctx, _args, opts: { version: string[]; markdown?: boolean }): Promise<CommandResult<MatrixData>> => {
        const matrix = await loadTalosMatrix();
        const picked = opts.version.length === 0 ? matrix.versions : findReleases(matrix, opts.version);
        const versions = columnsNewestFirst(picked);
        const width = outputWidth(ctx);
        return {
          data: { os: matrix.os, name: matrix.name, versions },
          human: (d, style) => (opts.markdown === true
            ? matrixMarkdown(matrixTable(d.versions, { format: 'markdown' }))
            : renderGrid(matrixTable(d.versions), { width, bold: style.bold, section: style.bold })),
        };
      }));

    subcommand(talos, 'check')
      .description('is this Talos combination supported? one ✓/✗ line per check; exit 3 when any fails')
      .option('--talos <v>', 'Talos version (1.3 or v1.3.7)')
      .option('--kubernetes <v>', 'Kubernetes version (1.26 or v1.26.3)')
      .option('--platform <p>', 'platform (aws, digitalocean, vmware, rpi4, metal, …)')
      .option('--arch <arch>', 'amd64 or arm64')
      .option('--from <v>', 'the Talos version upgraded from')
      .option('--on <date>', 'judge community support on this day, YYYY-MM-DD (default: today)')
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img talos check --talos 1.3 --kubernetes 1.26 --platform digitalocean --arch arm64',
        '  kairos-img talos check --talos v1.9.0 --from v1.3.7',
        '  kairos-img talos check --talos 1.3 --on 2023-03-16 --json',
      ].join('\n'))
      .action(run(async (_ctx, _args, opts: { talos?: string; kubernetes?: string; platform?: string; arch?: string; from?: string; on?: string }): Promise<CommandResult<ReturnType<typeof talosCheckJson>>> => {
        if (opts.talos === undefined) throw usageError('MISSING_OPTION', '--talos is required: which Talos version to check', 'e.g. kairos-img talos check --talos 1.3 --kubernetes 1.26');
        const matrix = await loadTalosMatrix();
        const report = checkTalos(matrix, { ...opts, talos: opts.talos, on: opts.on ?? isoDate(new Date()) });
        return {
          data: talosCheckJson(report),
          exitCode: report.supported ? 0 : 3,
          human: (_data, style) => talosCheckText(report, style),
        };
      }));
  },
};
