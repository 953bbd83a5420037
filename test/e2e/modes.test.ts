/**
 * test/e2e/modes.test.ts: the forwarding-method switch in the browser. The reference scenario
 * runs as TUN, then as DR (the packet loops through the gateway until decrement_ttl drops it)
 * and as NAT (the client answers the real server's reply with RST), each drop explained; a
 * screenshot of each mode goes to test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jump, shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 120_000);
afterAll(async () => { await h?.close(); });

const errorsOf = (p: Page) => (p as unknown as { errors: string[] }).errors;

async function switchTo(page: Page, method: string): Promise<void> {
  await page.selectOption('#mode', method);
  await page.waitForFunction(m => (document.querySelector('#mode') as HTMLSelectElement).value === m && document.body.dataset.index === '0', method);
}

describe('the forwarding-method switch', () => {
  it('shows the reference scenario as TUN, and runs it again as DR and as NAT with each failure explained', async () => {
    const page = await h.page();
    expect(await page.inputValue('#mode')).toBe('tunnel');
    await shot(page, 'modes-1-tun');

    await switchTo(page, 'route');
    expect(await page.inputValue('#scenario')).toBe('');
    await page.keyboard.press('d');
    await page.waitForSelector('#drop-banner:not([hidden])');
    const dr = await page.textContent('#drop-banner');
    expect(dr).toMatch(/ipvs_ttl_exceeded|TTL 1/);
    expect(dr).toMatch(/not on-link/);
    await shot(page, 'modes-2-dr');

    await switchTo(page, 'masq');
    await page.keyboard.press('d');
    await page.waitForSelector('#drop-banner:not([hidden])');
    const nat = await page.textContent('#drop-banner');
    expect(nat).toMatch(/SYN-ACK/);
    expect(nat).toMatch(/through the director/);
    await shot(page, 'modes-3-nat');

    await switchTo(page, 'tunnel');
    await page.setViewportSize({ width: 800, height: 720 });
    await shot(page, 'modes-4-tun-800');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });

  it('draws small arrowheads where the routes end, the lit tunnel pointing at the real server it goes to, and no reply route in DR', async () => {
    const page = await h.page();
    // Markers sized in drawing units, not in multiples of the 7-unit route stroke.
    const markers = await page.$$eval('#topo marker', ms => ms.map(m => [m.getAttribute('markerUnits'), Number(m.getAttribute('markerWidth'))] as const));
    expect(markers.length).toBe(2);
    for (const [units, w] of markers) { expect(units).toBe('userSpaceOnUse'); expect(w).toBeLessThanOrEqual(16); }
    // One arrowhead per route end: the two real servers (tunnel) and the client (reply).
    const ends = await page.$$eval('#topo path.route[marker-end]', ps => ps.map(p => `${p.getAttribute('class')!.split(' ')[1]} ${p.getAttribute('data-hop')}`).sort());
    expect(ends).toEqual(['route-reply router>client', 'route-tunnel router>rs1', 'route-tunnel router>rs2']);
    // Each arrowhead is at most 16 px, not a 50-px wedge: its drawn size on screen.
    const arrow = await page.evaluate(() => {
      const svg = document.querySelector('#topo') as SVGSVGElement;
      return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width * Number(document.querySelector('#topo marker')!.getAttribute('markerWidth'));
    });
    expect(arrow).toBeLessThan(16);
    // In step 4 the lit tunnel ends at rs2, the real server this connection is tunnelled to.
    await jump(page, 40);
    expect(await page.getAttribute('body', 'data-step')).toBe('4');
    expect(await page.$$eval('#topo path.route-tunnel.bright', ps => ps.map(p => p.getAttribute('data-hop')).sort())).toEqual(['director>router', 'router>rs2']);
    await shot(page, 'modes-5-tun-step4-routes');
    // DR on this topology never gets a reply from a real server: no reply route, no label.
    await switchTo(page, 'route');
    expect(await page.locator('#topo path.route').count()).toBe(0);
    expect((await page.textContent('#topo .route-label')) ?? '').toBe('');
    await shot(page, 'modes-6-dr-routes');
    expect(errorsOf(page)).toEqual([]);
    await page.close();
  });
});
