/**
 * test/e2e/lesson-player.test.ts: the lesson as a learner drives it. A request on its way to the
 * director (the client's ACK after the reply) is no step; N from the start lands on step 1 at the
 * director whatever the forwarding method, and says so when there is no next step; N/P pause
 * playback; the Packet tab follows the current event until a packet is picked; the jump box
 * marks what it cannot read; at 800 px N brings the network back into view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jump, position, shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 120_000);
afterAll(async () => { await h?.close(); });

const errorsOf = (p: Page) => (p as unknown as { errors: string[] }).errors;
const rowText = (p: Page) => p.textContent('.row.current');
const playLabel = (p: Page) => p.textContent('#player [data-a=play]');

describe('the lesson and the player', () => {
  it('beside the open Lesson pane the caption keeps to the step title, so the diagram does not move from step to step', async () => {
    const page = await h.page();
    const box = async () => ({ caption: (await page.locator('#caption').boundingBox())!.height, topo: (await page.locator('#topo').boundingBox())! });
    await page.keyboard.press('n');
    await page.waitForSelector('#caption[data-step="1"]');
    const first = await box();
    for (const step of [2, 3, 4, 5]) {
      await page.keyboard.press('n');
      await page.waitForSelector(`#caption[data-step="${step}"]`);
      const b = await box();
      expect([step, b.caption, b.topo.y, b.topo.height]).toEqual([step, first.caption, first.topo.y, first.topo.height]);
    }
    // the step's text is in the Lesson pane; with another tab open the caption gives it again
    expect(await page.locator('#caption .step-text').isVisible()).toBe(false);
    await page.keyboard.press('2');
    expect(await page.locator('#caption .step-text').isVisible()).toBe(true);
    await page.close();
  });

  it('shows the client\'s ACK on its way to the director as no step, not as step 5', async () => {
    const page = await h.page();
    // #97: the client's ACK (after the SYN-ACK reached it) on the router, towards the director.
    await jump(page, 97);
    expect(await rowText(page)).toMatch(/router.*#11/);
    await page.waitForSelector('#caption[data-way="1"]');
    const caption = await page.textContent('#caption');
    expect(caption).toMatch(/On the way to the director/);
    expect(caption).not.toMatch(/Step 5/);
    expect(await page.getAttribute('body', 'data-step')).toBe('0');
    expect(await page.getAttribute('#topo path.route-reply', 'class')).not.toContain('bright');
    expect(await page.locator('#pane-lesson li[aria-current="step"]').count()).toBe(0);
    expect(await page.textContent('#pane-lesson [aria-current="step"]')).toMatch(/on the way to the director/i);
    await shot(page, 'lesson-1-ack-on-the-way');
    // N from there: step 1, where the director receives it.
    await page.keyboard.press('n');
    await page.waitForSelector('#caption[data-step="1"]');
    expect(await rowText(page)).toMatch(/director\s*eth1\s*rx/);
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('in DR and NAT too, N from the start goes to step 1 at the director, and says so when no step follows', async () => {
    const page = await h.page();
    for (const method of ['route', 'masq']) {
      await page.selectOption('#mode', method);
      await page.waitForFunction(m => (document.querySelector('#mode') as HTMLSelectElement).value === m && document.body.dataset.index === '0', method);
      await page.keyboard.press('Home');
      await page.keyboard.press('n');
      await page.waitForSelector('#caption[data-step="1"]');
      expect(await rowText(page)).toMatch(/director\s*eth1\s*rx/);
      expect(await page.textContent('#caption')).toMatch(/Step 1 of 5 Request reaches the director/);
      // The first connection never completes in either method: N runs out of steps and says so.
      let note = '';
      for (let k = 0; k < 6 && !note; k++) {
        await page.keyboard.press('n');
        await page.waitForTimeout(50);
        note = (await page.locator('#caption .step-note').count()) ? (await page.textContent('#caption .step-note'))! : '';
      }
      expect(note).toMatch(/^No next step: the run reaches no step \d after event #\d+\. Press D for the drop that stops it\.$/);
      await shot(page, `lesson-2-${method}-no-next-step`);
    }
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('Next step and N pause playback on the step they go to', async () => {
    const page = await h.page();
    await page.click('#cta');
    await page.waitForFunction(() => document.querySelector('#player [data-a=play]')!.textContent!.includes('Pause'));
    await page.click('#pane-lesson [data-nav="1"]');
    await page.waitForSelector('#caption[data-step="1"]');
    const at = await position(page);
    await page.waitForTimeout(800);
    expect(await position(page)).toBe(at);
    expect(await playLabel(page)).toMatch(/Play/);
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('#player [data-a=play]')!.textContent!.includes('Pause'));
    await page.keyboard.press('n');
    await page.waitForTimeout(100);
    const at2 = await position(page);
    await page.waitForTimeout(800);
    expect(await position(page)).toBe(at2);
    expect(await playLabel(page)).toMatch(/Play/);
    await page.close();
  });

  it('the Packet tab follows the current event until a packet is picked', async () => {
    const page = await h.page();
    await jump(page, 68);
    await page.keyboard.press('3');
    await page.waitForSelector('#pane-packet:not([hidden]) .insp-head');
    expect(await page.textContent('#pane-packet .insp-head')).toMatch(/at record 68:/);
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('body[data-index="69"]');
    expect(await page.textContent('#pane-packet .insp-head')).toMatch(/at record 69:/);
    // A row clicked is a pick: it stays while the player moves, until "follow" is chosen again.
    await page.click('#trace .row[data-seq="60"]');
    await page.waitForSelector('body[data-index="60"]');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('body[data-index="61"]');
    expect(await page.textContent('#pane-packet .insp-head')).toMatch(/at record 60:/);
    await page.click('#pane-packet .pick-bar button');
    expect(await page.textContent('#pane-packet .insp-head')).toMatch(/at record 61:/);
    await shot(page, 'lesson-3-packet-follows');
    await page.close();
  });

  it('the jump box marks text it cannot read and says what it accepts', async () => {
    const page = await h.page();
    await jump(page, 12);
    await page.keyboard.press('g');
    await page.keyboard.type('foo');
    await page.keyboard.press('Enter');
    const box = page.locator('[data-a=jump]');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await page.isVisible('#jump-err')).toBe(true);
    expect(await page.textContent('#jump-err')).toMatch(/"foo" is not an event or a time\. Accepted: #42, 1\.5ms, 300us/);
    expect(await position(page)).toBe(12);
    await shot(page, 'lesson-4-jump-invalid');
    // Corrected text clears the mark and jumps.
    await page.keyboard.press('Control+a');
    await page.keyboard.type('1.5ms');
    expect(await box.getAttribute('aria-invalid')).toBeNull();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.dataset.index !== '12');
    expect(await page.isVisible('#jump-err')).toBe(false);
    await page.close();
  });

  it('at 800 px, N after a tab shortcut brings the caption and the network back into view', async () => {
    const page = await h.page('#s=misconfig-rp-filter-all');
    await page.setViewportSize({ width: 800, height: 720 });
    const inView = (sel: string) => page.evaluate(s => {
      const r = document.querySelector(s)!.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }, sel);
    await page.keyboard.press('2');
    await page.waitForTimeout(200);
    expect(await inView('#caption')).toBe(false);
    await page.keyboard.press('n');
    await page.waitForSelector('#caption[data-step="1"]');
    await page.waitForTimeout(200);
    expect(await inView('#caption')).toBe(true);
    expect(await page.evaluate(() => document.querySelector('#topo')!.getBoundingClientRect().top < window.innerHeight / 2)).toBe(true);
    await shot(page, 'lesson-5-800-after-n');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });
});
