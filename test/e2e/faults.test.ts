/**
 * test/e2e/faults.test.ts: faults in the browser. A keepalived scenario shows its timeline
 * (health checks, VRRP transitions) under the player; a mark seeks the player to its event; a
 * fault clicked in the faults panel is added to the scenario text at the player's time, the run
 * starts again and stays there, and the timeline shows what followed (the crash, the failed
 * health check, the real server leaving the pool). Screenshots (1280 and 800 px wide) go to
 * test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jump, position, shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 120_000);
afterAll(async () => { await h?.close(); });

const errorsOf = (p: Page) => (p as unknown as { errors: string[] }).errors;
const marks = (page: Page, lane: string) => page.$$eval(`.tl-track[data-lane="${lane}"] .tl-mark`, els => els.map(e => ({ label: e.getAttribute('aria-label') ?? '', index: Number((e as HTMLElement).dataset.index) })));

describe('faults and the timeline', () => {
  it('shows the failover scenario\'s VRRP transitions and health checks, and a mark seeks the player there', async () => {
    const page = await h.page('#s=keepalived-failover');
    const vrrp = await marks(page, 'vrrp');
    expect(vrrp.some(m => /director2: VRRP VI_1: BACKUP -> MASTER, takes 172\.16\.29\.6/.test(m.label))).toBe(true);
    const faults = await marks(page, 'fault');
    expect(faults.some(m => /director: kernel panic/.test(m.label))).toBe(true);
    expect((await marks(page, 'check')).some(m => /TCP_CHECK on \[172\.16\.197\.3\]:tcp:9001 succeeded/.test(m.label))).toBe(true);

    const takeover = vrrp.find(m => /director2: .*-> MASTER/.test(m.label))!;
    await page.click(`.tl-track[data-lane="vrrp"] .tl-mark[data-index="${takeover.index}"][aria-label*="director2"]`);
    await page.waitForSelector(`body[data-index="${takeover.index}"]`);
    expect(await position(page)).toBe(takeover.index);
    expect(await page.textContent('.tl-last')).toMatch(/director2: VRRP VI_1: BACKUP -> MASTER/);
    await shot(page, 'faults-1-failover-timeline');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('crashes a real server at the player\'s time: the step is in the editor, the player stays, the check fails and the pool loses it', async () => {
    const page = await h.page('#s=keepalived-failover');
    // Early in the run, before the held connection: go to the first record at or after 5 s.
    await page.keyboard.press('g');
    await page.keyboard.type('5s');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => Number(document.body.dataset.index) > 0);
    const before = await position(page);
    const t = (await page.evaluate(() => document.querySelector('#player .pos')!.textContent))!.replace(/ of \d+/, '');
    const atS = /t=([\d.]+) s/.exec(t)![1];

    await page.click('.tl-toggle');
    await page.waitForSelector('#faults-panel:not([hidden])');
    await shot(page, 'faults-2-panel');
    await page.click('button[aria-label="Crash rs2 here"]');
    // The run starts again on the edited text, at the same time.
    await page.waitForFunction(() => (document.querySelector('#scenario') as HTMLSelectElement).value === '');
    await page.waitForFunction(() => [...document.querySelectorAll('.tl-track[data-lane="fault"] .tl-mark')].some(e => /rs2: kernel panic/.test(e.getAttribute('aria-label') ?? '')));
    expect((await page.evaluate(() => document.querySelector('#player .pos')!.textContent))!.replace(/ of \d+/, '')).toBe(t);
    expect(await position(page)).toBe(before);

    await page.keyboard.press('e');
    const text = await page.inputValue('#editor textarea');
    expect(text).toContain(`  - { fault: crash, host: rs2, at: ${atS}s }\n  - { id: held,`);
    await page.keyboard.press('Escape');

    const checks = await marks(page, 'check');
    const failed = checks.find(m => /director2: TCP_CHECK on \[192\.168\.134\.5\]:tcp:9001 failed/.test(m.label));
    expect(failed).toBeDefined();
    expect(failed!.index).toBeGreaterThan(before);
    expect(checks.some(m => /director2: keepalived: real server \[192\.168\.134\.5\]:tcp:9001 removed from VS/.test(m.label))).toBe(true);
    // The host is shown as crashed from there: boot is offered, crash is not.
    await jump(page, failed!.index);
    await page.click('.tl-toggle');
    expect(await page.isDisabled('button[aria-label="Boot rs2 here"]')).toBe(false);
    expect(await page.isDisabled('button[aria-label="Crash rs2 here"]')).toBe(true);
    await page.click('.tl-toggle');
    // The topology draws rs2 as crashed there, and not before the crash.
    expect(await page.getAttribute('#topo g.host[data-host="rs2"]', 'class')).toContain('crashed');
    await shot(page, 'faults-3-rs2-crashed');
    await jump(page, Math.max(0, before - 1));
    expect(await page.getAttribute('#topo g.host[data-host="rs2"]', 'class')).not.toContain('crashed');
    await jump(page, failed!.index);

    await page.setViewportSize({ width: 800, height: 900 });
    await page.locator('#timeline').scrollIntoViewIfNeeded();
    await shot(page, 'faults-4-800');
    await page.click('.tl-toggle');
    await page.locator('#faults-panel').scrollIntoViewIfNeeded();
    await shot(page, 'faults-5-800-panel');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('takes a link down from the panel: the topology shows no carrier there, the check through it fails', async () => {
    const page = await h.page('#s=keepalived-rs-down');
    await page.keyboard.press('g');
    await page.keyboard.type('3s');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => Number(document.body.dataset.index) > 0);
    await page.click('.tl-toggle');
    await page.click('button[aria-label="Take link rs1-lan down here"]');
    await page.waitForFunction(() => [...document.querySelectorAll('.tl-track[data-lane="fault"] .tl-mark')].some(e => /link down \(no carrier\): rs1-lan/.test(e.getAttribute('aria-label') ?? '')));
    const checks = await marks(page, 'check');
    const failed = checks.find(m => /director: TCP_CHECK on \[172\.16\.197\.3\]:tcp:9001 failed/.test(m.label));
    expect(failed).toBeDefined();
    await jump(page, failed!.index);
    expect(await page.textContent('#topo g.host[data-host="rs1"]')).toContain('no carrier');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });
});
