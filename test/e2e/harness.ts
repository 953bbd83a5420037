/**
 * test/e2e/harness.ts: one production build of the app (vite build into a temp dir), served
 * by vite preview on a free port, and one headless Chromium for every end-to-end test.
 */
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const SHOTS = join(ROOT, 'test-results/e2e');

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];

export interface Harness {
  readonly url: string;
  readonly context: BrowserContext;
  page(path?: string): Promise<Page>;
  close(): Promise<void>;
}

export function chromiumPath(): string {
  return process.env.LVSIM_CHROMIUM || '/usr/bin/chromium';
}

/** Build the app into a temp dir, serve it, launch Chromium with a fresh profile. */
export async function startHarness(): Promise<Harness> {
  const outDir = mkdtempSync(join(tmpdir(), 'lvsim-e2e-app-'));
  const userDataDir = mkdtempSync(join(tmpdir(), 'lvsim-e2e-profile-'));
  mkdirSync(SHOTS, { recursive: true });
  await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
  const server: PreviewServer = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false, open: false } });
  const url = server.resolvedUrls?.local[0] ?? '';
  if (!url) throw new Error('vite preview did not report a URL');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 720 },
  });
  const errors: string[] = [];
  return {
    url,
    context,
    async page(path = '') {
      const page = await context.newPage();
      page.on('pageerror', e => errors.push(e.message));
      page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(url + path);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
      (page as unknown as { errors: string[] }).errors = errors;
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await server.close().catch(() => {});
      rmSync(outDir, { recursive: true, force: true });
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** The player's position as the page shows it. */
export async function position(page: Page): Promise<number> {
  return Number(await page.getAttribute('body', 'data-index'));
}

/** Seek the player to record `i` through the jump box, as a user would (G, type, Enter). */
export async function jump(page: Page, i: number): Promise<void> {
  await page.keyboard.press('g');
  await page.keyboard.type(`#${i}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`body[data-index="${i}"]`);
}

/** Everything visible that depends on the position: packets, kernel strips, caption, table, kernel panel. */
export async function viewState(page: Page): Promise<string> {
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.evaluate(() => {
    const pk = Array.from(document.querySelectorAll('#topo g.packets g.pkt')).map(g => `${g.getAttribute('class')}@${g.getAttribute('transform')}`);
    const chips = Array.from(document.querySelectorAll('#topo g.chip')).map(c => c.getAttribute('class')).join(',');
    return JSON.stringify({
      index: document.body.dataset.index, step: document.body.dataset.step, pk, chips,
      caption: document.querySelector('#caption')?.textContent,
      row: document.querySelector('.row.current')?.textContent,
      kernel: document.querySelector('#pane-kernel')?.textContent,
      drop: (document.querySelector('#drop-banner') as HTMLElement).hidden ? '' : document.querySelector('#drop-banner')?.textContent,
      tab: document.querySelector('.tabs [aria-selected="true"]')?.textContent,
      packet: document.querySelector('#pane-packet .insp-head')?.textContent,
    });
  });
}
