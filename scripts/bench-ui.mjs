#!/usr/bin/env node
// scripts/bench-ui.mjs: the browser app's figures in headless Chromium on this machine:
//   - time to first render of the reference scenario (navigation start to the topology drawn,
//     the scenario run included; target under 1.5 s),
//   - frames per second with 200 packets in flight (?stress=200; target at least 50),
//   - the bundle size, gzipped.
// Prints the figures; asserts nothing. Usage: node scripts/bench-ui.mjs [--json]
import { build, preview } from 'vite';
import { chromium } from 'playwright-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];
const json = process.argv.includes('--json');

function walk(dir) {
  return readdirSync(dir).flatMap(n => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const outDir = mkdtempSync(join(tmpdir(), 'lvsim-bench-app-'));
const profile = mkdtempSync(join(tmpdir(), 'lvsim-bench-profile-'));
let server, context;
try {
  await build({ root: ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false, manifest: true } });
  // The app is index.html and what it loads (static imports and CSS); other pages are not counted.
  const manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8'));
  const files = new Set([join(outDir, 'index.html')]);
  const visit = key => {
    const c = manifest[key];
    if (!c || files.has(join(outDir, c.file))) return;
    files.add(join(outDir, c.file));
    for (const css of c.css ?? []) files.add(join(outDir, css));
    for (const i of c.imports ?? []) visit(i);
  };
  visit('index.html');
  const raw = [...files].reduce((s, p) => s + statSync(p).size, 0);
  const gz = [...files].reduce((s, p) => s + gzipSync(readFileSync(p), { level: 9 }).length, 0);
  const allGz = walk(outDir).filter(p => /\.(js|css|html)$/.test(p)).reduce((s, p) => s + gzipSync(readFileSync(p), { level: 9 }).length, 0);

  server = await preview({ root: ROOT, logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1', open: false } });
  const url = server.resolvedUrls.local[0];
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.LVSIM_CHROMIUM || '/usr/bin/chromium', headless: true, args: FLAGS, viewport: { width: 1280, height: 720 },
  });

  // Time to first render: the first load (cold cache), then five warm loads.
  const loads = [];
  for (let k = 0; k < 6; k++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    loads.push(await page.evaluate(() => window.lvsim.firstRenderMs));
    await page.close();
  }

  // 200 packets in flight.
  const page = await context.newPage();
  await page.goto(url + '?stress=200');
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  await page.waitForTimeout(500);
  const fps = await page.evaluate(() => new Promise(res => {
    const inFlight = document.querySelectorAll('#topo g.stress g.pkt').length + document.querySelectorAll('#topo g.packets g.pkt').length;
    let n = 0;
    const t0 = performance.now();
    let worst = 0, last = t0;
    const tick = now => {
      n++;
      worst = Math.max(worst, now - last);
      last = now;
      if (now - t0 < 3000) requestAnimationFrame(tick);
      else res({ fps: (n - 1) / ((now - t0) / 1000), worstFrameMs: worst, inFlight });
    };
    requestAnimationFrame(tick);
  }));
  await page.close();

  const out = {
    firstRenderColdMs: Math.round(loads[0]),
    firstRenderWarmMedianMs: Math.round(median(loads.slice(1))),
    fps200: Math.round(fps.fps * 10) / 10,
    worstFrameMs: Math.round(fps.worstFrameMs),
    packetsInFlight: fps.inFlight,
    bundleBytes: raw,
    bundleGzipBytes: gz,
    allPagesGzipBytes: allGz,
  };
  if (json) console.log(JSON.stringify(out));
  else {
    console.log('lvsim browser app (headless Chromium, 1280x720)');
    console.log(`  time to first render (reference scenario): ${out.firstRenderColdMs} ms cold, ${out.firstRenderWarmMedianMs} ms warm median   (target < 1500 ms)`);
    console.log(`  frames per second, ${out.packetsInFlight} packets in flight: ${out.fps200} fps (worst frame ${out.worstFrameMs} ms)   (target >= 50)`);
    console.log(`  bundle (index.html and what it loads): ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped; all pages ${(allGz / 1024).toFixed(1)} KiB gzipped`);
  }
} finally {
  await context?.close().catch(() => {});
  await server?.close().catch(() => {});
  rmSync(outDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}
