/**
 * test/e2e/drop-banner.test.ts: the drop banner never hides a host of the network (nor the
 * "dropped" mark under the host where the packet died), at 1280x720 and at 800x720: played to
 * a drop on the reference scenario and a misconfiguration, and at the drops D reaches in every
 * scenario the picker offers. Screenshots go to test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 180_000);
afterAll(async () => { await h?.close(); });

const errorsOf = (p: Page) => (p as unknown as { errors: string[] }).errors;
const SIZES = [{ width: 1280, height: 720 }, { width: 800, height: 720 }] as const;

interface Rect { x: number; y: number; w: number; h: number }
interface Geometry {
  banner: Rect | null;
  stage: Rect;
  /** The part of the banner's place that shows, and whether it scrolls to show the rest. */
  slot: Rect;
  slotScrolls: boolean;
  viewport: Rect;
  fontPx: number;
  /** Each host's drawn box with everything drawn under it (the "✕ dropped" tag). */
  hosts: Array<{ host: string; rect: Rect; dropped: boolean }>;
}

/** The banner and the hosts as laid out on screen, after the frame in flight has been drawn. */
async function geometry(page: Page): Promise<Geometry> {
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate(() => {
    const rect = (r: DOMRect) => ({ x: r.x, y: r.y, w: r.width, h: r.height });
    const b = document.querySelector<HTMLElement>('#drop-banner')!;
    return {
      banner: b.hidden ? null : rect(b.getBoundingClientRect()),
      stage: rect(document.querySelector('.stage')!.getBoundingClientRect()),
      slot: rect(b.parentElement!.getBoundingClientRect()),
      slotScrolls: ['auto', 'scroll'].includes(getComputedStyle(b.parentElement!).overflowY),
      viewport: { x: 0, y: 0, w: window.innerWidth, h: window.innerHeight },
      fontPx: parseFloat(getComputedStyle(b).fontSize),
      hosts: Array.from(document.querySelectorAll<SVGGElement>('#topo g.host')).map(g => ({
        host: g.dataset.host!, rect: rect(g.getBoundingClientRect()), dropped: g.classList.contains('has-drop'),
      })),
    };
  });
}

const intersects = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** What is wrong with the banner's place, in words (empty when nothing is). */
function problems(g: Geometry, where: string): string[] {
  const out: string[] = [];
  const b = g.banner;
  if (!b) return [`${where}: no drop banner`];
  for (const hst of g.hosts) if (intersects(b, hst.rect)) out.push(`${where}: the banner covers ${hst.host}${hst.dropped ? ' (where the packet was dropped)' : ''}`);
  // Whole and readable: inside the network view (it clips what overflows), not squeezed.
  const inside = (a: Rect, c: Rect) => a.x >= c.x - 0.5 && a.y >= c.y - 0.5 && a.x + a.w <= c.x + c.w + 0.5 && a.y + a.h <= c.y + c.h + 0.5;
  // A longer explanation than its place holds starts at its head and scrolls, never clipped away.
  const scrolled = g.slotScrolls && inside(g.slot, g.stage) && Math.abs(b.y - g.slot.y) <= 0.5 && b.x >= g.slot.x - 0.5 && b.x + b.w <= g.slot.x + g.slot.w + 0.5;
  if (!(inside(b, g.stage) && inside(b, g.slot)) && !scrolled) out.push(`${where}: the banner is cut off (${Math.round(b.h)} px tall)`);
  if (!intersects(b, g.viewport) || b.y < 0) out.push(`${where}: the banner's head is out of the window`);
  if (b.w < 280) out.push(`${where}: the banner is squeezed to ${Math.round(b.w)} px`);
  if (g.fontPx < 12) out.push(`${where}: the banner's text is ${g.fontPx} px`);
  return out;
}

/** The reference scenario with strict rp_filter on rs1, through the editor (the lower right host drops). */
async function referenceWithDrop(page: Page): Promise<void> {
  await page.keyboard.press('e');
  const text = await page.inputValue('#editor textarea');
  const at = text.indexOf('  rs1:');
  await page.fill('#editor textarea', text.slice(0, at) + text.slice(at).replace('net.ipv4.conf.all.rp_filter = 0', 'net.ipv4.conf.all.rp_filter = 1'));
  await page.click('#editor .ed-run');
  await page.keyboard.press('Escape');
  await page.waitForSelector('body[data-index="0"]');
}

/** Press a key and let the page draw what it changed (the views redraw on the next frame). */
async function press(page: Page, key: string): Promise<void> {
  await page.keyboard.press(key);
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Play from a little before the run's first drop until the banner shows. */
async function playToDrop(page: Page): Promise<void> {
  // D stops at every drop, also those the banner leaves alone (an ARP request for the VIP ignored).
  for (let k = 0; k < 10 && await page.locator('#drop-banner').isHidden(); k++) await press(page, 'd');
  await page.waitForSelector('#drop-banner:not([hidden])');
  const first = Number(await page.getAttribute('body', 'data-index'));
  await page.keyboard.press('g');
  await page.keyboard.type(`#${Math.max(0, first - 25)}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drop-banner[hidden]', { state: 'attached' });
  await page.selectOption('#player select[data-a=speed]', '4');
  await page.click('#player [data-a=play]');
  await page.waitForSelector('#drop-banner:not([hidden])', { timeout: 30_000 });
}

describe('the drop banner', () => {
  for (const size of SIZES) {
    it(`leaves every host in view when the reference scenario is played to a drop at ${size.width}x${size.height}`, async () => {
      const page = await h.page();
      await page.setViewportSize(size);
      await referenceWithDrop(page);
      // The run drops packets: the banner's place is kept from the start, and says how to get there.
      expect(await page.textContent('#drop-hint')).toMatch(/D.*next drop.*Shift.*D.*previous/);
      await playToDrop(page);
      expect(await page.locator('#drop-hint').isHidden()).toBe(true);
      const playing = problems(await geometry(page), 'while playing');
      await page.click('#player [data-a=play]');
      await page.waitForSelector('#player [data-a=play]:not([aria-label^="Pause"])');
      // Land on the first drop itself: rs1 is marked, the banner names it.
      await page.keyboard.press('Home');
      await page.keyboard.press('d');
      await page.waitForSelector('#topo g.host[data-host="rs1"].has-drop');
      expect(await page.textContent('#drop-banner')).toMatch(/Dropped on rs1 at routing: rp_filter \(fib_validate_source.*fix: sysctl -w .*inspect$/s);
      // D and Shift+D walk the drops as before.
      const at = await page.getAttribute('body', 'data-index');
      await page.keyboard.press('d');
      await page.waitForFunction(i => document.body.dataset.index !== i, at);
      await page.keyboard.press('Shift+D');
      await page.waitForSelector(`body[data-index="${at}"]`);
      // The drawing stays where it was when the banner comes (one event before the drop: the hint).
      const drawing = () => page.$eval('#topo', e => JSON.stringify(e.getBoundingClientRect()));
      const atDrop = await drawing();
      await page.keyboard.press('ArrowLeft');
      await page.waitForSelector('#drop-banner[hidden]', { state: 'attached' });
      expect(await page.locator('#drop-hint').isVisible()).toBe(true);
      expect(await drawing()).toBe(atDrop);
      await page.keyboard.press('ArrowRight');
      await page.waitForSelector('#drop-banner:not([hidden])');
      await shot(page, `drop-banner-reference-${size.width}`);
      const g = await geometry(page);
      expect(g.hosts.map(x => x.host).sort()).toEqual(['client', 'director', 'router', 'rs1', 'rs2']);
      expect([...playing, ...problems(g, 'at the drop')]).toEqual([]);
      expect(errorsOf(page)).toEqual([]);
      await page.close();
    });

    it(`leaves every host in view when a misconfiguration is played to its drop at ${size.width}x${size.height}`, async () => {
      const page = await h.page('#s=misconfig-rs-gateway-missing');
      await page.setViewportSize(size);
      await playToDrop(page);
      const playing = problems(await geometry(page), 'while playing');
      await page.click('#player [data-a=play]');
      await shot(page, `drop-banner-misconfig-${size.width}`);
      expect([...playing, ...problems(await geometry(page), 'paused')]).toEqual([]);
      await page.close();
    });

    it(`leaves every host in view at the drops D reaches in every scenario at ${size.width}x${size.height}`, async () => {
      const page = await h.page();
      await page.setViewportSize(size);
      const names = await page.$$eval('#scenario option', os => os.map(o => (o as HTMLOptionElement).value).filter(Boolean));
      expect(names.length).toBeGreaterThan(20);
      const found: string[] = [];
      let withDrop = 0;
      for (const name of names) {
        await page.selectOption('#scenario', name);
        await page.waitForFunction(n => (document.querySelector('#scenario') as HTMLSelectElement).value === n && document.body.dataset.index === '0', name);
        let seen = 0;
        // The first drops D reaches (each may be on another host), up to three.
        for (let k = 0; k < 3; k++) {
          const before = await page.getAttribute('body', 'data-index');
          await press(page, 'd');
          if (await page.getAttribute('body', 'data-index') === before) break;
          if (await page.locator('#drop-banner').isHidden()) continue;
          seen++;
          found.push(...problems(await geometry(page), `${name} at event #${await page.getAttribute('body', 'data-index')}`));
        }
        if (seen) withDrop++;
      }
      await shot(page, `drop-banner-last-${size.width}`);
      // Most misconfigurations drop: the sweep must have measured them.
      expect(withDrop).toBeGreaterThan(15);
      expect(found).toEqual([]);
      expect(errorsOf(page)).toEqual([]);
      await page.close();
    }, 240_000);
  }
});
