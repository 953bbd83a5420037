/**
 * test/e2e/compare.test.ts: the scheduler comparison page end to end, in headless Chromium
 * against the production build: bad input refused and kept on screen, fewer arrivals than asked
 * for explained, latency shown with what it measures, legends whole, the per-connection diff
 * between two different schedulers, and the page at 800 px wide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 180_000);
afterAll(async () => { await h?.close(); });

async function openCompare(width = 1280): Promise<{ page: Page; errors: string[] }> {
  const page = await h.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  await page.setViewportSize({ width, height: 800 });
  await page.goto(h.url + 'compare.html');
  await page.waitForSelector('#run');
  return { page, errors };
}

/** Set the form and run; the page's own first run is superseded. */
async function run(page: Page, schedulers: string, connections: number): Promise<void> {
  await page.fill('#schedulers', schedulers);
  await page.fill('#connections', String(connections));
  await page.evaluate(() => { delete document.body.dataset.done; });
  await page.click('#run');
}

describe('the compare page', () => {
  it('keeps the error for an unknown scheduler and runs nothing', async () => {
    const { page, errors } = await openCompare();
    await run(page, 'rr,wlcc', 2000);
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/schedulers: found 'wlcc', expected one of rr, wrr, .* \(did you mean 'wlc'\?\)\. Nothing was run\./);
    // Still there later: no progress from this or the superseded run writes over it.
    await page.waitForTimeout(2500);
    expect(await page.isVisible('#error')).toBe(true);
    expect(await page.textContent('#status')).toBe('not run');
    expect(await page.getAttribute('body', 'data-done')).toBeNull();
    expect(await page.isEnabled('#run')).toBe(true);
    await shot(page, 'compare-01-bad-scheduler');
    // Other bad values get the same treatment; a good run clears the error.
    await run(page, 'rr,wlc', 12);
    expect(await page.textContent('#error')).toMatch(/connections: found '12', expected a whole number of at least 100/);
    await run(page, 'rr,rr', 2000);
    expect(await page.textContent('#error')).toMatch(/'rr' is listed twice/);
    await run(page, 'rr,wlc', 2000);
    await page.waitForSelector('body[data-done="1"]', { timeout: 60_000 });
    expect(await page.isHidden('#error')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says why fewer connections arrived than were asked for', async () => {
    const { page } = await openCompare();
    await run(page, 'rr', 200000);
    expect(await page.textContent('#note')).toMatch(/200000 connections at 50 per second need 4000 s; the workload's duration is 600 s, so about 30000 will arrive/);
    await page.waitForSelector('body[data-done="1"]', { timeout: 120_000 });
    const note = await page.textContent('#note');
    const m = /Asked for 200000 connections; (\d+) arrived: arrivals stop at the workload's duration \(600 s at 50 connections per second/.exec(note ?? '');
    expect(m, note ?? '').not.toBeNull();
    const arrived = Number(m![1]);
    expect(arrived).toBeGreaterThan(25_000);
    expect(arrived).toBeLessThan(35_000);
    // The table's count is the same number.
    expect(await page.locator('#table td').nth(2).textContent()).toBe(String(arrived));
    await shot(page, 'compare-02-arrivals-cap');
    await page.close();
  });

  it('shows latency with what it measures, whole legends, and a diff of two different schedulers', async () => {
    const { page, errors } = await openCompare();
    await run(page, 'rr,wlc,sh', 3000);
    await page.waitForSelector('body[data-done="1"]', { timeout: 120_000 });
    // The flow table has no latency columns (flow mode has no latency).
    const head = await page.locator('#table th').allTextContents();
    expect(head).toEqual(expect.arrayContaining(['scheduler', 'load Jain', 'conns Jain']));
    expect(head.join(' ')).not.toMatch(/p50|p99/);
    // Latency: what it is, per scheduler, with a chart only when the schedulers differ.
    const lat = await page.textContent('#latency');
    expect(lat).toMatch(/Time from the client's SYN to the first byte of the real server's answer/);
    expect(lat).toMatch(/no queueing/);
    const rows = await page.locator('#latency tr').allTextContents();
    expect(rows).toHaveLength(4);
    const means = await page.locator('#latency tr td:nth-child(3)').allTextContents();
    expect(means.every(v => /^\d+\.\d{3}$/.test(v))).toBe(true);
    const charted = await page.locator('#latency svg').count();
    const same = await page.locator('#latency .same').count();
    expect(charted + same).toBe(1);
    if (charted) expect(await page.locator('#latency svg text.legend').allTextContents()).toEqual(means.map((m, i) => `${['rr', 'wlc', 'sh'][i]} mean ${m} ms`));
    // Every legend label lies inside its chart.
    const cut = await page.evaluate(() => Array.from(document.querySelectorAll<SVGTextElement>('svg text.legend')).filter(t => {
      const svg = t.ownerSVGElement!;
      const vb = svg.viewBox.baseVal;
      const ctm = (t.parentNode as SVGGElement).getCTM()!;
      const b = t.getBBox();
      const x1 = ctm.e / (svg.getBoundingClientRect().width / vb.width) + b.x + b.width; // right edge in viewBox units
      return x1 > vb.width + 0.5;
    }).map(t => t.textContent));
    expect(cut).toEqual([]);
    expect(await page.locator('#imbalance svg text.legend').allTextContents()).toEqual(['open / weight', 'conns / weight']);
    // The diff: two different schedulers by default; a new pair clears the old answer.
    const a = await page.inputValue('#diff-a');
    const b = await page.inputValue('#diff-b');
    expect(a).not.toBe(b);
    await page.click('#diff');
    await page.waitForSelector('body[data-diff="1"]', { timeout: 60_000 });
    expect(await page.textContent('#diff-out')).toMatch(new RegExp(`under ${a} and .* under ${b}`));
    await shot(page, 'compare-03-latency-diff');
    await page.selectOption('#diff-b', a === 'sh' ? 'rr' : 'sh');
    expect(await page.textContent('#diff-out')).toMatch(/^Pick two schedulers/);
    await page.selectOption('#diff-b', a);
    await page.click('#diff');
    expect(await page.textContent('#diff-out')).toMatch(/pick two different schedulers/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is one column at 800 px, with nothing wider than the page', async () => {
    const { page, errors } = await openCompare(800);
    await run(page, 'rr,wrr,lc,wlc,sed,nq,sh,mh', 2000);
    await page.waitForSelector('body[data-done="1"]', { timeout: 120_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    const lefts = await page.locator('main > section').evaluateAll(ss => ss.map(s => Math.round(s.getBoundingClientRect().left)));
    expect(new Set(lefts).size).toBe(1);
    for (const id of ['series', 'imbalance', 'latency']) {
      const w = await page.evaluate(i => document.querySelector(`#${i} svg`)?.getBoundingClientRect().right ?? 0, id);
      expect(w).toBeLessThanOrEqual(800);
    }
    await page.screenshot({ path: `${process.cwd()}/test-results/e2e/compare-04-800px.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
