/**
 * test/e2e/modes.test.ts: the forwarding-method switch in the browser. The reference scenario
 * runs as TUN, then as DR (the packet loops through the gateway until decrement_ttl drops it)
 * and as NAT (the client answers the real server's reply with RST), each drop explained; a
 * screenshot of each mode goes to test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { shot, startHarness, type Harness } from './harness';

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
});
