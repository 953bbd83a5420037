/**
 * The compare page opens a merged sweep report (lvsim merge --json) and shows it with its own
 * table and charts; a file that is not a report is refused in words and what was drawn stays.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { runJob } from '../../src/workload/compare';
import { renderReport } from '../../src/workload/report';
import { makePart, mergeParts, parsePart, shardSeeds, sweepJobs, type Sweep } from '../../src/workload/sweep';
import { scenarioSha256 } from '../../src/cli/compare';
import { LVSIM_VERSION } from '../../src/cli/version';
import { shot, startHarness, type Harness } from './harness';

const SCN = 'scenarios/compare-schedulers.yaml';
const text = readFileSync(SCN, 'utf8');
const sweep: Sweep = {
  lvsim: LVSIM_VERSION, scenario: { file: SCN, name: 'compare', sha256: scenarioSha256(text) },
  mode: 'flow', connections: 300, schedulers: ['rr', 'wlc', 'sed'], seeds: { first: 3, last: 5 },
};

let h: Harness;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'lvsim-open-'));

beforeAll(async () => {
  h = await startHarness();
  page = await h.context.newPage();
  await page.goto(h.url + 'compare.html');
  // The page runs its own comparison on load; open the report once that is drawn.
  await page.waitForSelector('body[data-done="1"]', { timeout: 240_000 });
}, 300_000);
afterAll(async () => { await h?.close(); });

describe('compare page: open a merged report', () => {
  it('shows the merged sweep with the same table and charts, and says what it shows', async () => {
    const parts = [1, 2].map(i => {
      const seeds = shardSeeds(sweep.seeds, i, 2);
      return { file: `part-${i}.json`, part: parsePart(JSON.stringify(makePart(sweep, { index: i, count: 2, seeds }, sweepJobs(sweep, seeds, text).map(j => runJob(j)))), `part-${i}.json`) };
    });
    const merged = mergeParts(parts);
    const file = join(dir, 'report.json');
    writeFileSync(file, renderReport(merged.sweep, merged.runs, 'json'));
    await page.setInputFiles('#open-report', file);
    await page.waitForSelector('body[data-report="1"]');
    // The page's table holds the figures of the CLI's text table of the same runs, row by row
    // (flow mode has no latency, which the CLI prints as '-' and the page leaves out).
    const pageRows = await page.$$eval('#table tr', trs => trs.slice(1).map(tr => [...tr.querySelectorAll('td')].map(c => c.textContent!.trim())));
    const cliRows = renderReport(merged.sweep, merged.runs, 'text').split('\n').slice(3, 6).map(l => l.trim().split(/\s+/).filter(x => x !== '-'));
    expect(cliRows.map(r => r[0])).toEqual(['rr', 'wlc', 'sed']);
    expect(pageRows).toEqual(cliRows);
    expect(await page.textContent('#status')).toBe(`report.json: ${SCN}, flow mode, seeds 3..5 x 3 scheduler(s), 9 runs (lvsim ${LVSIM_VERSION})`);
    expect(await page.$$eval('#series-sched option', os => os.map(o => o.textContent))).toEqual(['rr', 'wlc', 'sed']);
    expect(await page.$$eval('#series svg path', ps => ps.length)).toBeGreaterThan(0);
    expect(await page.$$eval('#imbalance svg rect', rs => rs.length)).toBeGreaterThan(0);
    await shot(page, 'compare-open-report');
    await page.setViewportSize({ width: 800, height: 900 });
    await shot(page, 'compare-open-report-800');
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it('refuses a part (merge it first) and a damaged report, keeping what is drawn', async () => {
    const before = await page.textContent('#table');
    const part = join(dir, 'part-1.json');
    const seeds = shardSeeds(sweep.seeds, 1, 3);
    writeFileSync(part, JSON.stringify(makePart(sweep, { index: 1, count: 3, seeds }, sweepJobs({ ...sweep, schedulers: ['rr'] }, seeds, text).map(j => runJob(j)))));
    await page.setInputFiles('#open-report', part);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('error:'));
    expect(await page.textContent('#status')).toBe('error: part-1.json: one part of a sharded sweep; merge the parts first: lvsim merge part-*.json --json > report.json');
    const damaged = join(dir, 'damaged.json');
    const r = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    r.runs[2].dests = 'x';
    writeFileSync(damaged, JSON.stringify(r));
    await page.setInputFiles('#open-report', damaged);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('error: damaged'));
    expect(await page.textContent('#status')).toMatch(/^error: damaged\.json: runs\[2\]\.dests: /);
    expect(await page.textContent('#table')).toBe(before);
  });
});
