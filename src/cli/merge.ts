/**
 * cli/merge.ts: `lvsim merge part-*.json [--json|--csv|--html]`: the parts a sharded
 * `lvsim compare --shard I/N --out FILE` wrote, checked to belong to one sweep and joined into
 * the report one unsplit run of that sweep prints, byte for byte (workload/sweep.ts mergeParts).
 */
import { mergeParts, parsePart, SweepError, type Part } from '../workload/sweep';
import { renderReport } from '../workload/report';
import { UsageError, SWITCH, parseCommand, type CommandSpec } from './args';
import { FileError, readInput } from './io';
import { reportFormat } from './compare';

export const MERGE_USAGE = `usage: lvsim merge <part.json>... [--json | --csv | --html]
  the parts written by lvsim compare --shard I/N --out FILE (every shard of one sweep, any order)
`;

const MERGE: CommandSpec = {
  name: 'merge', usage: MERGE_USAGE, positional: { min: 1, max: Infinity, what: 'part file' },
  options: { json: SWITCH, csv: SWITCH, html: SWITCH },
};

export function mergeMain(argv: readonly string[]): number {
  try {
    const a = parseCommand(MERGE, argv);
    if (a.help) { process.stdout.write(MERGE_USAGE); return 0; }
    const format = reportFormat(a.values);
    const seen = new Set<string>();
    const parts: Array<{ file: string; part: Part }> = [];
    for (const file of a.positional) {
      if (seen.has(file)) throw new UsageError(`${file} is named twice`);
      seen.add(file);
      parts.push({ file, part: parsePart(readInput(file), file) });
    }
    const { sweep, runs } = mergeParts(parts);
    process.stdout.write(renderReport(sweep, runs, format));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof FileError || e instanceof SweepError) {
      process.stderr.write(`lvsim merge: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
