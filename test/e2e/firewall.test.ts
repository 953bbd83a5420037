/**
 * test/e2e/firewall.test.ts: the Firewall tab as an operator uses it on a real server whose
 * INPUT chain rejects the service port: the rules with their counters at the player's position
 * (the REJECT counts the SYN only once the player reaches its drop, and stepping back takes it
 * away), the rule that decided the selected packet's fate marked, the same counters as
 * `iptables -L -v -n -x` in the console, and the inspector naming the rule at each hook.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { jump, shot, startHarness, type Harness } from './harness';
import { runScenarioText } from '../../src/world/world';
import { type Ipv4, ipv4TotalLength } from '../../src/net/packet';
import { xtablesAt } from '../../src/trace/firewall';
import { toHash } from '../../src/ui/url';

const FILE = 'scenarios/fw-rs-input-reject.yaml';
const REJECT = '-p tcp -m tcp --dport 9001 -j REJECT --reject-with icmp-port-unreachable';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 180_000);
afterAll(async () => { await h?.close(); });

/** pkts and bytes of a row of the Firewall tab ("filter INPUT 1"; rule 0: the policy). */
async function counters(page: Page, key: string): Promise<[number, number]> {
  const cells = await page.locator(`#pane-firewall tr[data-rule="${key}"] td.num`).allTextContents();
  expect(cells, key).toHaveLength(2);
  return [Number(cells[0]), Number(cells[1])];
}

describe('the Firewall tab', () => {
  it('shows rs1\'s INPUT rules with counters at the player\'s position and marks the rule that rejected the selected SYN', async () => {
    // Where the REJECT drops the first SYN scheduled to rs1, from the same deterministic run.
    const run = runScenarioText(readFileSync(FILE, 'utf8'), FILE);
    const drop = run.world.records.findIndex(r => r.host === 'rs1' && r.reason?.code === 'iptables');
    expect(drop).toBeGreaterThan(0);
    const synBytes = ipv4TotalLength(run.world.records[drop]!.packet.pkt as Ipv4);

    const page = await h.page('#s=fw-rs-input-reject');
    await page.keyboard.press('5');
    await page.waitForSelector('#pane-firewall:not([hidden]) .fw-host');
    await page.selectOption('#pane-firewall .fw-host', 'rs1');
    // At the first event nothing has reached rs1: every counter is zero.
    expect(await counters(page, 'filter INPUT 1')).toEqual([0, 0]);
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 1"] code').textContent()).toBe(REJECT);
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 0"] code').textContent()).toBe('policy ACCEPT');

    // Just before the drop: the SYN is on its way but not yet counted.
    await jump(page, drop - 1);
    expect(await counters(page, 'filter INPUT 1')).toEqual([0, 0]);
    // At the drop: counted, and (selecting that record) marked as the rule that decided its fate.
    await jump(page, drop);
    expect(await counters(page, 'filter INPUT 1')).toEqual([1, synBytes]);
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 1"]').getAttribute('class')).toContain('now');
    await page.keyboard.press('i');
    await page.keyboard.press('5');
    await page.waitForSelector('#pane-firewall tr[data-rule="filter INPUT 1"].match.decided');
    // The same packet crossed INPUT twice on rs1: as IP-in-IP (the policy let it in) and decapsulated (rejected).
    expect(await page.locator('#pane-firewall tr.match').evaluateAll(rows => rows.map(r => r.getAttribute('data-rule')))).toEqual(['filter INPUT 1', 'filter INPUT 0']);
    await shot(page, 'firewall-01-reject');

    // The packet inspector names the rule at the hook where it matched.
    await page.keyboard.press('3');
    const rules = page.locator('#pane-packet .fw-insp li');
    expect(await rules.allTextContents()).toContainEqual(expect.stringContaining(`rs1 INPUT filter INPUT rule 1: -A INPUT ${REJECT}`));
    await shot(page, 'firewall-02-inspector');

    // Stepping back lowers the counter again.
    await page.keyboard.press('5');
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector(`body[data-index="${drop - 1}"]`);
    expect(await counters(page, 'filter INPUT 1')).toEqual([0, 0]);

    // At the end of the run, the tab and the console's iptables -L -v -n -x agree.
    await page.keyboard.press('End');
    const last = run.world.records.length - 1;
    await page.waitForSelector(`body[data-index="${last}"]`);
    const [pk, by] = await counters(page, 'filter INPUT 1');
    const [ppk, pby] = await counters(page, 'filter INPUT 0');
    expect(pk).toBeGreaterThan(0);
    await page.keyboard.press('4');
    await page.selectOption('#pane-console select', 'rs1');
    await page.fill('#pane-console input', 'iptables -L INPUT -v -n -x');
    await page.press('#pane-console input', 'Enter');
    await page.waitForFunction(() => /Chain INPUT/.test(document.querySelector('#pane-console .console-out')!.textContent ?? ''));
    const out = (await page.locator('#pane-console .console-out').textContent())!;
    expect(out).toContain(`Chain INPUT (policy ACCEPT ${ppk} packets, ${pby} bytes)`);
    expect(out).toMatch(new RegExp(`\\n\\s+${pk}\\s+${by} REJECT `));
    await page.keyboard.press('Escape');
    await page.keyboard.press('5');
    await shot(page, 'firewall-03-end');

    // A host without rules says so instead of an empty table.
    await page.selectOption('#pane-firewall .fw-host', 'client');
    expect(await page.locator('#pane-firewall').textContent()).toMatch(/client has no iptables table loaded/);

    // One column at 800 px: the tab still reads (no horizontal overflow of the rules table).
    await page.selectOption('#pane-firewall .fw-host', 'rs1');
    await page.setViewportSize({ width: 800, height: 900 });
    await jump(page, drop);
    await page.keyboard.press('5');
    await page.locator('#pane-firewall').scrollIntoViewIfNeeded();
    const overflow = await page.evaluate(() => { const p = document.querySelector('#pane-firewall')!; return p.scrollWidth - p.clientWidth; });
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'firewall-04-narrow');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
  }, 120_000);

  it('follows iptables -Z and -I run mid-run: the counters zero at the command\'s event and the inserted rule shows from there', async () => {
    const text = readFileSync(FILE, 'utf8').replace(/\ntraffic:[\s\S]*$/, '\n') + [
      'traffic:',
      '  - { id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001 }',
      '  - { id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002 }',
      '  - { exec: "iptables -Z INPUT", host: rs1 }',
      '  - { exec: "iptables -I INPUT -d 172.16.29.6 -p tcp --dport 9001 -j ACCEPT", host: rs1 }',
      '  - { id: c3, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40003 }',
      '  - { id: c4, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40004 }',
      '',
    ].join('\n');
    const run = runScenarioText(text, 'edited.yaml');
    const rs = run.world.records;
    const changes = run.world.changes.filter(c => c.host === 'rs1' && c.change.kind === 'iptables');
    expect(changes.length).toBeGreaterThan(2);
    const zeroed = changes[changes.length - 2]!.seq;
    const inserted = changes[changes.length - 1]!.seq;
    const page = await h.page(await toHash({ text, seed: 1 }));
    await page.keyboard.press('5');
    await page.selectOption('#pane-firewall .fw-host', 'rs1');
    // Just before the commands: rule 1 is the REJECT, and it has counted c2's SYN.
    await jump(page, zeroed - 1);
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 1"] code').textContent()).toBe(REJECT);
    expect(await counters(page, 'filter INPUT 1')).toEqual([1, ipv4TotalLength(rs.find(r => r.host === 'rs1' && r.reason?.code === 'iptables')!.packet.pkt as Ipv4)]);
    // From the insert on: rule 1 is the ACCEPT, the REJECT is rule 2 with its counters zeroed.
    await jump(page, inserted);
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 1"] code').textContent()).toBe('-d 172.16.29.6/32 -p tcp -m tcp --dport 9001 -j ACCEPT');
    expect(await page.locator('#pane-firewall tr[data-rule="filter INPUT 2"] code').textContent()).toBe(REJECT);
    expect(await counters(page, 'filter INPUT 2')).toEqual([0, 0]);
    expect(await page.locator('#pane-firewall .fw-since').textContent()).toMatch(/changed them during the run/);
    // At the end, every row is what the trace's counters say there.
    await page.keyboard.press('End');
    await page.waitForSelector(`body[data-index="${rs.length - 1}"]`);
    const input = xtablesAt(rs, run.world.changes, 'rs1', rs.length - 1).tables.find(t => t.name === 'filter')!.chains.find(c => c.name === 'INPUT')!;
    expect(input.rules[0]!.pcnt).toBeGreaterThan(0);
    for (const [i, r] of input.rules.entries()) expect(await counters(page, `filter INPUT ${i + 1}`)).toEqual([r.pcnt, r.bcnt]);
    expect(await counters(page, 'filter INPUT 0')).toEqual([input.pcnt, input.bcnt]);
    await shot(page, 'firewall-05-midrun');
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
  }, 120_000);
});
