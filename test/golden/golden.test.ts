/**
 * Golden traces: every scenario in scenarios/ runs headless and prints what `lvsim run` prints;
 * the text must equal test/golden/<scenario>.txt byte for byte. A change shows as a diff of the
 * lines around each difference. Regenerate on purpose with `npm run golden`, then read the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { formatRunText } from '../../src/cli/format';
import { lineDiff } from './diff';

const SCENARIOS = 'scenarios';
const GOLDEN = 'test/golden';
const update = process.env.LVSIM_UPDATE_GOLDEN === '1';
const files = readdirSync(SCENARIOS).filter(f => f.endsWith('.yaml')).sort();

describe('golden traces (lvsim run on each shipped scenario)', () => {
  it('has one golden file per scenario and none for a scenario that is gone', () => {
    const golden = readdirSync(GOLDEN).filter(f => f.endsWith('.txt')).map(f => f.replace(/\.txt$/, '.yaml')).sort();
    if (!update) expect(golden).toEqual(files);
  });

  for (const f of files) {
    it(f, () => {
      const path = `${SCENARIOS}/${f}`;
      const actual = formatRunText(runScenarioText(readFileSync(path, 'utf8'), path));
      const goldenPath = join(GOLDEN, f.replace(/\.yaml$/, '.txt'));
      if (update) {
        writeFileSync(goldenPath, actual);
        return;
      }
      if (!existsSync(goldenPath)) expect.fail(`${goldenPath} is missing: run npm run golden`);
      const expected = readFileSync(goldenPath, 'utf8');
      if (actual !== expected) expect.fail(`${f}: trace differs from ${goldenPath} (npm run golden regenerates it)\n${lineDiff(expected, actual)}`);
    });
  }
});
