/**
 * test/e2e/lab.test.ts: the misconfiguration lab in the browser, as a learner uses it: pick an
 * exercise, read the symptom, ask the console, fix the configuration in the editor, run it,
 * and see the verdict change; the doctor's findings beside the editor's problems.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shot, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 180_000);
afterAll(async () => { await h?.close(); });

describe('the misconfiguration lab', () => {
  it('shows the exercise, answers the console at the player\'s position, and says when the fix works', async () => {
    const page = await h.page('#s=lab/rp-filter-all');
    expect(await page.inputValue('#scenario')).toBe('lab/rp-filter-all');
    // The symptom and a verdict that it is not fixed; the hint and the doctor stay folded.
    const panel = page.locator('#pane-lesson .lab-panel');
    expect(await panel.locator('.lab-symptom').textContent()).toMatch(/half of the connections .* time out/);
    expect(await panel.locator('.lab-verdict').textContent()).toBe('Not fixed yet:');
    expect(await panel.locator('.lab-expect li.fail').first().textContent()).toMatch(/c2: expected ok, got failed: ETIMEDOUT/);
    expect(await panel.locator('details').first().getAttribute('open')).toBeNull();
    await shot(page, 'lab-01-exercise');

    // The console: nstat on rs1 at the end of the run shows the reverse-path filter's counter.
    await page.keyboard.press('End');
    await page.keyboard.press('4');
    await page.waitForSelector('#pane-console:not([hidden])');
    await page.selectOption('#pane-console select', 'rs1');
    await page.fill('#pane-console input', 'nstat -az TcpExtIPReversePathFilter');
    await page.press('#pane-console input', 'Enter');
    await page.waitForFunction(() => /TcpExtIPReversePathFilter\s+[1-9]/.test(document.querySelector('#pane-console .console-out')!.textContent ?? ''));
    // At the very first event nothing has arrived yet: the same command answers 0.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Home');
    await page.fill('#pane-console input', 'nstat -az TcpExtIPReversePathFilter');
    await page.press('#pane-console input', 'Enter');
    const outs = await page.locator('#pane-console .console-out span:not(.console-cmd)').allTextContents();
    expect(outs[outs.length - 1]).toMatch(/TcpExtIPReversePathFilter\s+0/);
    // History: the arrow brings the command back; a command that changes the host is refused.
    await page.focus('#pane-console input');
    await page.keyboard.press('ArrowUp');
    expect(await page.inputValue('#pane-console input')).toBe('nstat -az TcpExtIPReversePathFilter');
    await page.fill('#pane-console input', 'sysctl -w net.ipv4.conf.all.rp_filter=0');
    await page.press('#pane-console input', 'Enter');
    expect(await page.locator('#pane-console .console-err').last().textContent()).toMatch(/would change the host/);
    await shot(page, 'lab-02-console');

    // The editor: the doctor names the cause at its line; the fix makes every expectation pass.
    await page.keyboard.press('Escape');
    await page.keyboard.press('e');
    await page.waitForSelector('#editor:not([hidden]) .ed-doctor:not([hidden])');
    expect(await page.locator('.ed-findings li').first().textContent()).toMatch(/error rp_filter_strict_on_decap \[rs1\]/);
    const text = await page.inputValue('.ed-text');
    await page.fill('.ed-text', text.replace('net.ipv4.conf.all.rp_filter = 1', 'net.ipv4.conf.all.rp_filter = 0'));
    await page.click('.ed-run');
    await page.waitForFunction(() => document.querySelector('#pane-lesson .lab-verdict')?.textContent?.startsWith('Fixed'));
    await page.keyboard.press('1');
    expect(await page.locator('#pane-lesson .lab-expect li.fail').count()).toBe(0);
    await shot(page, 'lab-03-fixed');
    await page.setViewportSize({ width: 800, height: 900 });
    await shot(page, 'lab-04-fixed-800');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('draws each host as it was at the player\'s position: an address added mid-run appears only from its exec step', async () => {
    const page = await h.page();
    await page.keyboard.press('e');
    await page.waitForSelector('#editor:not([hidden])');
    const text = await page.inputValue('.ed-text');
    const edited = text.replace(/(  - \{ id: c1, [^\n]*\n)/, '$1  - { exec: "ip addr add 172.16.197.99/24 dev eth0", host: rs1 }\n');
    expect(edited).not.toBe(text);
    await page.fill('.ed-text', edited);
    await page.click('.ed-run');
    await page.keyboard.press('Escape');
    const addrs = () => page.$$eval('#topo g.host[data-host="rs1"] text.dev[data-addr]', ts => ts.map(t => t.getAttribute('data-addr')));
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.body.dataset.index === '0');
    expect(await addrs()).not.toContain('172.16.197.99/24');
    await shot(page, 'state-01-before');
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.body.dataset.index !== '0');
    await page.waitForFunction(() => [...document.querySelectorAll('#topo g.host[data-host="rs1"] text.dev[data-addr]')].some(t => t.getAttribute('data-addr') === '172.16.197.99/24'));
    expect(await addrs()).toContain('172.16.197.3/24');
    await shot(page, 'state-02-after');
    // And back: stepping to the start removes it again.
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.body.dataset.index === '0');
    expect(await addrs()).not.toContain('172.16.197.99/24');
    await page.close();
  }, 120_000);
});
