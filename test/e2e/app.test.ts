/**
 * test/e2e/app.test.ts: the browser app end to end, in headless Chromium against the
 * production build. Each test saves a screenshot to test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jump, position, shot, startHarness, viewState, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 120_000);
afterAll(async () => { await h?.close(); });

const errorsOf = (p: Page) => (p as unknown as { errors: string[] }).errors;

describe('lvsim in the browser', () => {
  it('opens ready on the reference scenario, laid out, with a first action', async () => {
    const page = await h.page();
    expect(await page.inputValue('#scenario')).toBe('tun-different-subnets');
    for (const host of ['client', 'router', 'director', 'rs1', 'rs2']) expect(await page.locator(`#topo g.host[data-host="${host}"]`).count()).toBe(1);
    // Subnets as labelled regions with their prefixes; the VIP on tunl0 on both real servers.
    const prefixes = await page.locator('#topo .seg-prefix').allTextContents();
    expect(prefixes).toEqual(expect.arrayContaining(['203.0.113.0/24', '172.16.69.0/24', '172.16.29.0/24', '172.16.197.0/24', '192.168.134.0/24']));
    for (const rs of ['rs1', 'rs2']) {
      const tun = await page.locator(`#topo g.host[data-host="${rs}"] text.dev-tun`).textContent();
      expect(tun).toContain('tunl0');
      expect(tun).toContain('172.16.29.6/32');
      expect(tun).toContain('VIP');
    }
    await expect(page.locator('#cta').isVisible()).resolves.toBe(true);
    expect(await page.getAttribute('#cta', 'aria-label')).toMatch(/Send a request/);
    await shot(page, '01-open');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('plays the reference scenario through the five steps in order', async () => {
    const page = await h.page();
    await page.selectOption('#player select[data-a=speed]', '16');
    const trail = () => page.evaluate(() => (window as unknown as { lvsim: { lessonTrail: number[] } }).lvsim.lessonTrail);
    await page.click('#cta');
    await page.waitForFunction(() => (window as unknown as { lvsim: { lessonTrail: number[] } }).lvsim.lessonTrail.includes(5), null, { timeout: 30_000 });
    await page.keyboard.press(' ');
    const seen = await trail();
    const firsts = [1, 2, 3, 4, 5].map(s => seen.indexOf(s));
    expect(firsts.every(i => i >= 0)).toBe(true);
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    // The lesson explains the current step and the reply path is highlighted. At 16x the player
    // may already be into the second connection when the pause lands: go back to step 5 first.
    if (await page.getAttribute('#caption', 'data-step') !== '5') await page.click('#pane-lesson button[data-step="5"]');
    await page.waitForSelector('#caption[data-step="5"]');
    expect(await page.textContent('#caption')).toMatch(/Step 5 of 5.*reply/i);
    // The reply route (one path per hop) of the connection on screen is lit, to the client.
    expect(await page.locator('#topo path.route-reply.bright[data-hop$=">client"]').count()).toBe(1);
    expect(await page.textContent('#pane-lesson li[aria-current="step"]')).toMatch(/the reply straight to the client/i);
    await shot(page, '02-five-steps');
    await page.close();
  });

  it('steps back and forward to exactly the same state', async () => {
    const page = await h.page();
    // A moment with the encapsulated packet on the wire.
    await page.keyboard.press('n'); // step 2
    await page.keyboard.press('n'); // step 3
    const start = await position(page);
    await jump(page, start + 6);
    const before = await viewState(page);
    for (let k = 0; k < 7; k++) await page.keyboard.press('ArrowRight');
    await page.waitForSelector(`body[data-index="${start + 13}"]`);
    const ahead = await viewState(page);
    expect(ahead).not.toEqual(before);
    for (let k = 0; k < 7; k++) await page.keyboard.press('ArrowLeft');
    await page.waitForSelector(`body[data-index="${start + 6}"]`);
    expect(await viewState(page)).toEqual(before);
    // Playing forward and coming back lands on the same state too.
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowLeft');
    await page.waitForSelector(`body[data-index="${start + 6}"]`);
    expect(await viewState(page)).toEqual(before);
    await shot(page, '03-step-back-forward');
    await page.close();
  });

  it('inspects the encapsulated packet: outer protocol 4 around the inner VIP', async () => {
    const page = await h.page();
    // Find the first IPIP frame leaving the director, and stop where it is on the wire.
    const f = await page.evaluate(() => (window as unknown as { lvsim: { flightOfKind: (k: string) => { tx: number; rx: number } | null } }).lvsim.flightOfKind('encap'));
    expect(f).not.toBeNull();
    await jump(page, Math.floor((f!.tx + f!.rx) / 2));
    await page.click('#topo g.packets g.pkt-encap > rect');
    await page.waitForSelector('#pane-packet:not([hidden]) .layer');
    const titles = await page.locator('#pane-packet .layer h4').allTextContents();
    expect(titles).toEqual(['Ethernet', 'IPv4 (outer, IP-in-IP)', 'IPv4 (inner)', 'TCP']);
    const outer = page.locator('#pane-packet .layer').nth(1);
    const inner = page.locator('#pane-packet .layer').nth(2);
    expect(await outer.locator('.field[data-f=protocol] dd').textContent()).toBe('4 (IPIP)');
    expect(await inner.locator('.field[data-f=dst] dd').textContent()).toBe('172.16.29.6');
    expect(await outer.locator('.field[data-f=src] dd').textContent()).toBe('172.16.69.15');
    // Selecting the outer protocol highlights its byte on the wire: 0x04.
    await outer.locator('.field[data-f=protocol]').click();
    expect(await page.locator('#pane-packet .hex .b.on').allTextContents()).toEqual(['04']);
    await inner.locator('.field[data-f=dst]').click();
    expect(await page.locator('#pane-packet .hex .b.on').allTextContents()).toEqual(['ac', '10', '1d', '06']);
    await shot(page, '04-inspector-encap');
    await page.close();
  });

  it('shows where a misconfigured scenario drops, with the reason and the fix', async () => {
    const page = await h.page();
    const names = await page.locator('#scenario option').evaluateAll(os => os.map(o => (o as HTMLOptionElement).value));
    const scenario = names.find(n => /rp-filter-tunl0/.test(n)) ?? names.find(n => /rp-filter/.test(n));
    if (scenario) {
      await page.selectOption('#scenario', scenario);
    } else {
      // No such scenario yet: make one in the editor, rp_filter=1 on rs1.
      await page.keyboard.press('e');
      const text = await page.inputValue('#editor textarea');
      const at = text.indexOf('  rs1:');
      const fixed = text.slice(0, at) + text.slice(at).replace('net.ipv4.conf.all.rp_filter = 0', 'net.ipv4.conf.all.rp_filter = 1');
      await page.fill('#editor textarea', fixed);
      await page.click('#editor .ed-run');
      await page.keyboard.press('Escape');
    }
    await page.waitForSelector('body[data-index="0"]');
    await page.keyboard.press('d');
    await page.waitForSelector('#drop-banner:not([hidden])');
    const banner = await page.textContent('#drop-banner');
    expect(banner).toMatch(/rp_filter/);
    expect(banner).toMatch(/fix: sysctl -w net\.ipv4\.conf\.all\.rp_filter=0/);
    expect(await page.locator('#topo g.host[data-host="rs1"] text.drop-tag').textContent()).toMatch(/rp_filter/);
    expect(await page.textContent('#pane-packet .drop-box')).toMatch(/fib_validate_source/);
    await shot(page, '05-misconfig-drop');
    // The kernel view of rs1: the points the packet passed, in order, ending at the drop.
    await page.keyboard.press('2');
    expect(await page.textContent('#pane-kernel .k-stage.drop')).toMatch(/DROP/);
    expect(await page.textContent('#pane-kernel .k-stage[data-stage="INPUT"] .k-handlers')).toMatch(/ip_vs_in_hook/);
    expect(await page.textContent('#pane-kernel .k-trav')).toMatch(/tunl0 decap.*PREROUTING accept.*DROP/s);
    await shot(page, '05b-kernel-drop');
    await page.close();
  });

  it('edits a scenario with live validation and undo, and sees the rp_filter drop it causes', async () => {
    const page = await h.page();
    await page.keyboard.press('e');
    const ta = page.locator('#editor textarea');
    const text = await ta.inputValue();
    await ta.fill(text.replace('-s rr', '-s rrx'));
    await page.waitForSelector('#editor .ed-status.bad');
    const diag = await page.textContent('#editor .ed-diags');
    expect(diag).toMatch(/^\d+:\d+/);
    expect(diag).toMatch(/rrx/);
    expect(await page.locator('#editor .ed-gutter .g-err').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#editor .ed-diags li').first().textContent()).toMatch(/rrx/);
    await page.click('#editor .ed-diags li button');
    await shot(page, '06-editor-error');
    await ta.press('Control+z');
    await page.waitForSelector('#editor .ed-status.ok');
    expect(await ta.inputValue()).toBe(text);
    await ta.press('Control+Shift+z');
    expect(await ta.inputValue()).toContain('-s rrx');
    await ta.press('Control+z');
    const at = text.indexOf('  rs1:');
    await ta.fill(text.slice(0, at) + text.slice(at).replace('net.ipv4.conf.all.rp_filter = 0', 'net.ipv4.conf.all.rp_filter = 1'));
    await page.waitForSelector('#editor .ed-status.ok');
    await page.click('#editor .ed-run');
    await page.keyboard.press('Escape');
    await page.keyboard.press('d');
    await page.waitForSelector('#drop-banner:not([hidden])');
    expect(await page.textContent('#drop-banner')).toMatch(/Dropped on rs1 .*rp_filter/);
    await page.close();
  });

  it('restores a shared URL on the same event, for a named and for an edited scenario', async () => {
    const page = await h.page();
    await jump(page, 123);
    await page.keyboard.press('i');
    await page.waitForFunction(() => location.hash.includes('at=123') && location.hash.includes('tab=packet'));
    const url = page.url();
    expect(url).toMatch(/s=tun-different-subnets/);
    expect(url).toMatch(/seed=1/);
    const want = await viewState(page);
    const again = await h.page(url.slice(h.url.length));
    expect(await position(again)).toBe(123);
    expect(await viewState(again)).toEqual(want);
    await shot(again, '07-shared-url');
    await again.close();

    // An edited scenario travels compressed in the hash.
    await page.keyboard.press('e');
    const ta = page.locator('#editor textarea');
    await ta.fill((await ta.inputValue()).replace('-s rr', '-s wlc'));
    await page.click('#editor .ed-run');
    await page.keyboard.press('Escape');
    await jump(page, 40);
    await page.waitForFunction(() => location.hash.includes('text=') && location.hash.includes('at=40'));
    const edited = await viewState(page);
    const third = await h.page(page.url().slice(h.url.length));
    expect(await position(third)).toBe(40);
    expect(await viewState(third)).toEqual(edited);
    expect(await third.inputValue('#editor textarea')).toContain('-s wlc');
    await third.close();
    await page.close();
  });
});
