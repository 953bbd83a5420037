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
    // The form describes the report (its schedulers, seeds and connections), and says so.
    expect(await page.inputValue('#schedulers')).toBe('rr,wlc,sed');
    expect(await page.inputValue('#seeds')).toBe('3..5');
    expect(await page.inputValue('#connections')).toBe('300');
    expect(await page.isVisible('#report-banner')).toBe(true);
    expect(await page.textContent('#report-banner')).toBe(`Showing the report report.json (${SCN}, flow mode, seeds 3..5), not a run of this page. The form holds its schedulers, seeds and connections; Run runs them again here.`);
    // A flow-mode report has no latency: said as such, not as connections that failed to complete.
    const lat = await page.textContent('#latency');
    expect(lat).toBe('report.json is a flow-mode report: flow mode sends no packets, so it has no latency. lvsim compare --mode packet measures latency; opening such a report shows it here.');
    // The per-connection diff answers for the page's own scenario run, not the report: off.
    expect(await page.isDisabled('#diff')).toBe(true);
    expect(await page.isDisabled('#diff-a')).toBe(true);
    expect(await page.getAttribute('body', 'data-diff')).toBeNull();
    expect(await page.textContent('#diff-out')).toMatch(/^The per-connection diff reruns this page's scenario .* it does not answer for the opened report report\.json\./);
    // The series says which run it draws, and another seed can be picked.
    expect(await page.$$eval('#series-seed option', os => os.map(o => o.textContent))).toEqual(['seed 3', 'seed 4', 'seed 5']);
    expect(await page.textContent('#series-which')).toBe('wlc, seed 3 (one of the 3 seeds in the table; pick another seed above): 300 connections.');
    await page.selectOption('#series-seed', '5');
    expect(await page.textContent('#series-which')).toMatch(/^wlc, seed 5 /);
    // Legend in natural order, each colour readable on white (4.5:1).
    expect(await page.$$eval('#series svg text.legend', ts => ts.map(t => t.textContent!.split(' ')[0]))).toEqual(['rs1', 'rs2', 'rs3', 'rs4']);
    const ratios = await page.$$eval('#series svg text.legend', ts => ts.map(t => {
      const [r, g, b] = getComputedStyle(t).fill.match(/\d+/g)!.map(Number).map(v => v / 255).map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 1.05 / (0.2126 * r! + 0.7152 * g! + 0.0722 * b! + 0.05);
    }));
    for (const r of ratios) expect(r).toBeGreaterThanOrEqual(4.5);
    await shot(page, 'compare-open-report');
    await page.setViewportSize({ width: 800, height: 900 });
    await shot(page, 'compare-open-report-800');
    await page.setViewportSize({ width: 1280, height: 720 });
    // Editing the form detaches it from the report, visibly.
    await page.fill('#connections', '400');
    expect(await page.textContent('#report-banner')).toMatch(/The form has been changed since: it no longer describes the report; Run runs the form\./);
    expect(await page.getAttribute('#connections', 'class')).toMatch(/report-edited/);
    await page.fill('#connections', '300');
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

  it('Run after a report runs the form it filled: the same table, the report banner gone, the diff back', async () => {
    const reportTable = await page.$$eval('#table tr', trs => trs.map(tr => tr.textContent));
    await page.evaluate(() => { delete document.body.dataset.done; });
    await page.click('#run');
    await page.waitForSelector('body[data-done="1"]', { timeout: 120_000 });
    expect(await page.getAttribute('body', 'data-report')).toBeNull();
    expect(await page.isHidden('#report-banner')).toBe(true);
    // The page ran seeds 3..5 of the same scenario: its table is the report's, figure for figure.
    expect(await page.$$eval('#table tr', trs => trs.map(tr => tr.textContent))).toEqual(reportTable);
    expect(await page.isEnabled('#diff')).toBe(true);
    await page.click('#diff');
    await page.waitForSelector('body[data-diff="1"]', { timeout: 60_000 });
    expect(await page.textContent('#diff-out')).toMatch(/^seed 3: connection \d+ /);
    expect(await page.locator('#latency tr').count()).toBe(4);
  });
});
