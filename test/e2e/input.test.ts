/**
 * test/e2e/input.test.ts: what the browser shows for input that is not a well-formed, runnable
 * scenario: runs with no trace records, damaged and oversized share links, hostile share links
 * under the Content-Security-Policy, the editor's live check, and the app at 800 px wide.
 * Headless Chromium against the production build (and the dev server for its policy); each
 * test saves a screenshot to test-results/e2e/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { deflateRawSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_FLAGS, chromiumPath, ROOT, shot, startHarness, type Harness } from './harness';

const REF = readFileSync(join(ROOT, 'scenarios/tun-different-subnets.yaml'), 'utf8');
/** A share link's text parameter, as the app writes it (deflate-raw, base64url, 'z' first). */
const z = (text: string) => 'z' + deflateRawSync(Buffer.from(text)).toString('base64url');
const link = (text: string) => `#text=${z(text)}`;

/** Page errors and CSP violations seen by one page. */
interface Watched { page: Page; errors: string[] }
async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp ?? []);
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  // Record every CSP violation the page reports, from the first script on.
  await h.context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', e => { w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`); });
  });
}, 180_000);
afterAll(async () => { await h?.close(); });

async function open(path: string, viewport?: { width: number; height: number }): Promise<Watched> {
  const page = await h.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(h.url + path);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
  return { page, errors };
}

describe('a run with no trace records', () => {
  it('shows the topology of a scenario without traffic and says why nothing moved', async () => {
    const noTraffic = REF.slice(0, REF.indexOf('\ntraffic:'));
    const { page, errors } = await open(link(noTraffic));
    for (const host of ['client', 'router', 'director', 'rs1', 'rs2']) expect(await page.locator(`#topo g.host[data-host="${host}"]`).count()).toBe(1);
    expect(await page.textContent('#caption')).toMatch(/Nothing moved: the scenario has no traffic: steps, so no packet was sent\. Add one, e\.g\. "traffic: \[ \{ connect: 172\.16\.29\.6:<port>, from: client \} \]"/);
    expect(await page.textContent('#player .pos')).toBe('no events');
    expect(await page.textContent('#trace .count')).toBe('0 of 0 records');
    // Stepping, dropping and inspecting on an empty trace change nothing and throw nothing.
    for (const k of ['ArrowRight', 'End', 'd', 'n', 'i', '2', ' ']) await page.keyboard.press(k);
    await page.waitForTimeout(300);
    expect(await page.locator('#drop-banner').isHidden()).toBe(true);
    await shot(page, 'input-01-no-traffic');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says there are no hosts, and that the scenario has problems, for empty and unparseable text', async () => {
    const empty = await open(link('hosts: {}\n'));
    expect(await empty.page.textContent('#caption')).toMatch(/Nothing moved: the scenario defines no hosts/);
    expect(await empty.page.locator('#topo g.host').count()).toBe(0);
    expect(empty.errors).toEqual([]);
    await empty.page.close();

    const bad = await open(link('hosts: [\n  a: {\n'));
    const caption = await bad.page.textContent('#caption');
    expect(caption).toMatch(/Nothing moved: the scenario defines no hosts.*The scenario has \d+ problems?: open the editor/);
    await bad.page.click('#why-edit');
    await bad.page.waitForSelector('#editor:not([hidden]) .ed-diags li');
    expect(await bad.page.inputValue('#editor textarea')).toBe('hosts: [\n  a: {\n');
    await shot(bad.page, 'input-02-unparseable');
    expect(bad.errors).toEqual([]);
    await bad.page.close();
  });
});

describe('share links', () => {
  it('says a cut link is damaged and keeps the text recovered before the damage', async () => {
    const full = z(REF).slice(1);
    const cut = `#text=z${full.slice(0, Math.floor(full.length * 0.6))}&seed=1`;
    const { page, errors } = await open(cut);
    await page.waitForSelector('#fatal:not([hidden])');
    const msg = await page.textContent('#fatal');
    expect(msg).toMatch(/This link is damaged \(the compressed text is corrupt\)\. The editor holds the \d+ lines that could be recovered/);
    const recovered = await page.inputValue('#editor textarea');
    expect(recovered.length).toBeGreaterThan(200);
    expect(REF.startsWith(recovered)).toBe(true);
    expect(await page.inputValue('#scenario')).toBe('');
    // Not the reference scenario in disguise, and the damaged link stays in the address bar.
    await page.waitForTimeout(600);
    expect(page.url()).toBe(h.url + cut);
    await shot(page, 'input-03-damaged-link');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('names the character that is not base64url, and says when nothing could be recovered', async () => {
    const full = z(REF);
    const { page } = await open(`#text=${full.slice(0, 400)}*${full.slice(401)}`);
    await page.waitForSelector('#fatal:not([hidden])');
    expect(await page.textContent('#fatal')).toMatch(/This link is damaged \(character 400 of the encoded text \('\*'\) is not base64url\)/);
    expect(REF.startsWith(await page.inputValue('#editor textarea'))).toBe(true);
    await page.close();

    const unknown = await open('#s=no-such-scenario&at=3');
    await unknown.page.waitForSelector('#fatal:not([hidden])');
    expect(await unknown.page.textContent('#fatal')).toMatch(/This link names a scenario 'no-such-scenario' that this version of lvsim does not have; showing the reference scenario tun-different-subnets instead/);
    await unknown.page.close();

    const garbage = await open('#text=zAAAAAAAAAAAAAAAA');
    await garbage.page.waitForSelector('#fatal:not([hidden])');
    expect(await garbage.page.textContent('#fatal')).toMatch(/This link is damaged \(the compressed text is corrupt\)\. Nothing could be recovered from it\./);
    expect(await garbage.page.locator('#topo g.host').count()).toBe(0);
    await garbage.page.close();
  });

  it('refuses a small link that inflates past 1 MiB, without inflating the rest', async () => {
    const big = z(('#' + 'x'.repeat(79) + '\n').repeat(300_000)); // 24 MB of text
    const { page, errors } = await open(`#text=${big}`);
    await page.waitForSelector('#fatal:not([hidden])');
    expect(await page.textContent('#fatal')).toMatch(/larger than 1 MiB once inflated; lvsim loads scenarios up to 1 MiB, so nothing was run/);
    expect(await page.textContent('#caption')).toMatch(/nothing was run/);
    await shot(page, 'input-04-too-large-link');
    expect(errors).toEqual([]);
    await page.close();
  });
});

const HOSTILE = {
  name: '<script>window.__pwned=1</script>name',
  description: '<img src=x onerror="window.__pwned=2">description',
  host: '<img src=x onerror=window.__pwned=3>',
  device: '<svg/onload=window.__pwned=4>',
  argument: '<iframe srcdoc="<script>parent.__pwned=5</script>">',
  link: '<b onmouseover=window.__pwned=6>lan</b>',
};

/** The reference scenario with script in the places a user's text reaches the page. */
function hostileScenarios(): string[] {
  const named = REF.replace(/^name: .*$/m, `name: ${JSON.stringify(HOSTILE.name)}`)
    .replace(/^description: >\n(  .*\n)+/m, `description: ${JSON.stringify(HOSTILE.description)}\n`)
    .replace('name: client-lan', `name: ${JSON.stringify(HOSTILE.link)}`);
  const badHost = REF.replace('\n  client:\n', `\n  ${JSON.stringify(HOSTILE.host)}:\n    role: client\n  client:\n`);
  const badDevice = REF.replace('      modprobe ipip\n', `      modprobe ipip\n      ip link set ${JSON.stringify(HOSTILE.device).replace(/"/g, "'")} up\n`);
  const badArgument = REF.replace('-s rr', `-s '${HOSTILE.argument.replace(/'/g, '')}'`);
  return [named, badHost, badDevice, badArgument];
}

describe('Content-Security-Policy', () => {
  it('is the built pages\' first meta: own-origin scripts only, no inline script or eval', async () => {
    for (const path of ['/', '/compare.html']) {
      const html = await (await fetch(h.url.replace(/\/$/, '') + path)).text();
      const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
      expect(meta, path).not.toBeNull();
      const policy = meta![1].replace(/&#39;/g, "'");
      expect(policy).toMatch(/script-src 'self'(;|$)/);
      expect(policy).toMatch(/style-src 'self'(;|$)/);
      expect(policy).toMatch(/default-src 'none'/);
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|\sstyle="/);
    }
  });

  it('loads hostile share links as text: nothing injected runs or is even attempted', async () => {
    for (const [k, text] of hostileScenarios().entries()) {
      const { page, errors } = await open(link(text));
      const caption = await page.textContent('#caption');
      // The editor's problem list, then the end of the run in every pane.
      await page.keyboard.press('e');
      await page.waitForTimeout(700);
      await page.keyboard.press('Escape');
      await page.keyboard.press('End');
      await page.keyboard.press('2');
      await page.keyboard.press('3');
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), `scenario ${k}`).toBeUndefined();
      expect(await page.locator('body img, body iframe, body script, #app b[onmouseover], [onerror], [onload], [onmouseover]').count(), `scenario ${k}`).toBe(0);
      expect(await violations(page), `scenario ${k}`).toEqual([]);
      expect(errors, `scenario ${k}`).toEqual([]);
      if (k === 0) {
        expect(caption).toContain(HOSTILE.name);
        expect(await page.textContent('#pane-lesson .intro')).toBe(HOSTILE.description);
        expect(await page.locator('#topo .seg-name').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(HOSTILE.link)]));
        expect(await page.title()).toContain(HOSTILE.name);
      }
      const problems = await page.locator('#editor .ed-diags li').allTextContents();
      expect(problems.join('\n'), `scenario ${k}`).not.toMatch(/valid YAML/);
      if (k === 1) expect(await page.textContent('#editor .ed-diags')).toContain(HOSTILE.host);
      if (k === 2) expect(await page.textContent('#editor .ed-diags')).toContain(HOSTILE.device);
      if (k === 3) expect(await page.textContent('#editor .ed-diags')).toContain(HOSTILE.argument.replace(/'/g, ''));
      await shot(page, `input-05-hostile-${k}`);
      await page.close();
    }
  });

  it('lets the built compare page run its workers with no violation', async () => {
    const page = await h.context.newPage();
    await page.goto(h.url + 'compare.html');
    await page.fill('#schedulers', 'rr,wlc');
    await page.fill('#connections', '1000');
    await page.click('#run');
    await page.waitForSelector('body[data-done="1"]', { timeout: 120_000 });
    expect(await page.locator('#table td').count()).toBeGreaterThan(0);
    expect(await violations(page)).toEqual([]);
    await page.close();
  }, 180_000);

  it('holds on the dev server too, for both pages, with no violation', async () => {
    const server = await createServer({ root: ROOT, logLevel: 'error', server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false } });
    await server.listen();
    const url = server.resolvedUrls!.local[0]!;
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage();
      await page.addInitScript(() => {
        const w = window as unknown as { __csp: string[] };
        w.__csp = [];
        document.addEventListener('securitypolicyviolation', e => { w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`); });
      });
      for (const path of ['', 'compare.html']) {
        const res = await page.goto(url + path);
        const policy = res!.headers()['content-security-policy'] ?? '';
        expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'(;|$)/);
        expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
        if (path === '') await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
        else await page.waitForFunction(() => /runs/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 60_000 });
        // Styles applied (the dev server's injected <style> carries the nonce).
        const bg = await page.evaluate(() => getComputedStyle(document.querySelector('header')!).backgroundColor);
        expect(bg).not.toBe('rgba(0, 0, 0, 0)');
        expect(await violations(page)).toEqual([]);
        if (path === '') await page.screenshot({ path: join(ROOT, 'test-results/e2e/input-06-dev-csp.png') });
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});

describe('the editor', () => {
  it('shows schema and command-line problems together, as Run reports them', async () => {
    const { page } = await open('');
    await page.keyboard.press('e');
    const broken = REF.replace('-s rr', '-s rrx')
      .replace('  rs1:\n    role: realserver', '  rs1:\n    role: realserver\n    colour: blue')
      .replace('ip addr add 172.16.197.3/24 dev eth0', 'ip addr add 172.16.197.300/24 dev eth0');
    await page.fill('#editor textarea', broken);
    await page.waitForSelector('#editor .ed-status.bad');
    const live = await page.locator('#editor .ed-diags li').allTextContents();
    expect(live.join('\n')).toMatch(/colour/);
    expect(live.join('\n')).toMatch(/rrx/);
    expect(live.join('\n')).toMatch(/172\.16\.197\.300\/24/);
    await shot(page, 'input-07-editor-all-problems');
    await page.click('#editor .ed-run');
    await page.waitForTimeout(400);
    expect(await page.locator('#editor .ed-diags li').allTextContents()).toEqual(live);
    expect(await page.textContent('#editor .ed-status')).toBe(`${live.length} problems`);
    await page.close();
  });
});

describe('an edited scenario is not lost', () => {
  it('picking another scenario keeps it: "(edited)" brings the text back, and so does Back; problems are in line order', async () => {
    const { page } = await open('');
    await page.keyboard.press('e');
    // two mistakes, the later line first in Run's order before (setup line, then a parse error above it)
    const edited = REF.replace('-s rr', '-s rrx').replace('  rs1:\n    role: realserver', '  rs1:\n    role: realserver\n    colour: blue');
    await page.fill('#editor textarea', edited);
    await page.waitForSelector('#editor .ed-status.bad');
    const lines = (await page.locator('#editor .ed-diags li button').allTextContents()).map(t => Number(t.split(':')[0]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    await page.click('#editor .ed-run');
    await page.waitForTimeout(300);
    await page.selectOption('#scenario', 'misconfig-no-vip');
    await page.waitForFunction(() => !(document.querySelector('#editor textarea') as HTMLTextAreaElement).value.includes('-s rrx'));
    await page.selectOption('#scenario', '');
    await page.waitForFunction(() => (document.querySelector('#editor textarea') as HTMLTextAreaElement).value.includes('colour: blue'));
    await page.selectOption('#scenario', 'misconfig-no-vip');
    await page.waitForFunction(() => location.hash.includes('misconfig-no-vip'));
    await page.goBack();
    await page.waitForFunction(() => (document.querySelector('#editor textarea') as HTMLTextAreaElement).value.includes('-s rrx'));
    await page.close();
  });
});

describe('the time column', () => {
  /** Time cells of the rows the table shows around event i. */
  async function timesAround(page: Page, i: number): Promise<string[]> {
    await page.evaluate(j => (window as unknown as { lvsim: { seek: (k: number) => void } }).lvsim.seek(j), i);
    await page.waitForSelector(`body[data-index="${i}"]`);
    return page.locator('#trace .row span:nth-child(2)').allTextContents();
  }

  it('writes every time of a run in one unit, chosen from the run\'s length', async () => {
    // 12.5 ms of trace: milliseconds, microsecond resolution.
    const short = await open('#s=tun-different-subnets');
    expect(await short.page.textContent('#trace .thead')).toContain('time (ms)');
    const n = Number(await short.page.evaluate(() => (window as unknown as { lvsim: { records: number } }).lvsim.records));
    const cells = [...await timesAround(short.page, 0), ...await timesAround(short.page, 33), ...await timesAround(short.page, Math.floor(n / 2)), ...await timesAround(short.page, n - 1)];
    expect(cells.length).toBeGreaterThan(20);
    for (const c of cells) expect(c).toMatch(/^\d+\.\d{3}$/);
    expect(cells).toContain('0.900');
    expect(await short.page.textContent('#player .pos')).toMatch(/t=\d+\.\d{3} ms$/);
    await short.page.close();

    // A run past a second (rp_filter drops, SYN retransmissions for a minute): seconds throughout.
    const long = await open('#s=misconfig-rp-filter-tunl0');
    expect(await long.page.textContent('#trace .thead')).toContain('time (s)');
    const m = Number(await long.page.evaluate(() => (window as unknown as { lvsim: { records: number } }).lvsim.records));
    const all = [...await timesAround(long.page, 40), ...await timesAround(long.page, m - 1)];
    for (const c of all) expect(c).toMatch(/^\d+\.\d{6}$/);
    expect(all.some(c => c.startsWith('0.00'))).toBe(true);
    expect(all.some(c => Number(c) > 1)).toBe(true);
    await long.page.keyboard.press('i');
    expect(await long.page.textContent('#pane-packet .insp-head')).toMatch(/t=\d+\.\d{6} s/);
    await shot(long.page, 'input-11-time-column-seconds');
    await long.page.close();
  });
});

describe('at 800 px wide', () => {
  it('keeps the page one column without sideways scroll, and the shortcuts bring each pane into view', async () => {
    const { page, errors } = await open('', { width: 800, height: 720 });
    const inView = (sel: string) => page.evaluate(s => {
      const r = document.querySelector(s)!.getBoundingClientRect();
      return r.height > 0 && r.top < window.innerHeight - 40 && r.bottom > 40;
    }, sel);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    expect(await inView('#pane-lesson')).toBe(false);
    await shot(page, 'input-08-800px-open');
    await page.keyboard.press('n');
    await page.keyboard.press('n');
    await page.keyboard.press('2');
    await page.waitForTimeout(200);
    expect(await inView('#pane-kernel')).toBe(true);
    expect(await inView('#tab-kernel')).toBe(true);
    expect(await page.textContent('#pane-kernel')).toMatch(/IPVS/);
    await shot(page, 'input-09-800px-kernel');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.keyboard.press('i');
    await page.waitForTimeout(200);
    expect(await inView('#pane-packet')).toBe(true);
    expect(await page.locator('#pane-packet .layer').count()).toBeGreaterThan(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.keyboard.press('1');
    await page.waitForTimeout(200);
    expect(await inView('#pane-lesson')).toBe(true);
    // The player stays reachable while the panel is in view.
    expect(await inView('#player')).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    await shot(page, 'input-10-800px-lesson');
    expect(errors).toEqual([]);
    await page.close();
  });
});
