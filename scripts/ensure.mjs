// Installs what `npm start`, `npm test` and `npm run bench` need when it is missing:
// the npm dependencies, and with --browser a Chromium for the end-to-end tests (the system's,
// or Debian's `chromium` package when running as root), plus tshark for the pcapng checks and GNU
// parallel for docs/scale.md's recipe.
import { existsSync, statSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';

const wantBrowser = process.argv.includes('--browser');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status === 0;
}

const lock = 'package-lock.json';
const stamp = 'node_modules/.package-lock.json';
if (!existsSync('node_modules') || !existsSync(stamp) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(stamp).mtimeMs + 1000)) {
  console.error('lvsim: installing npm dependencies (npm ci)...');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) {
    console.error('lvsim: npm ci failed; trying npm install');
    if (!run('npm', ['install', '--no-audit', '--no-fund'])) process.exit(1);
  }
}

function which(bin) {
  try {
    return execSync(`command -v ${bin}`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

if (wantBrowser) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const missing = [];
  if (!process.env.LVSIM_CHROMIUM && !which('chromium') && !which('chromium-browser') && !which('google-chrome')) missing.push('chromium');
  if (!which('tshark')) missing.push('tshark');
  if (!which('parallel')) missing.push('parallel');
  if (missing.length) {
    if (isRoot && which('apt-get')) {
      console.error(`lvsim: installing ${missing.join(' and ')} from Debian's packages...`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      const ok = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env }).status === 0;
      if (!ok) console.error(`lvsim: could not install ${missing.join(', ')}; the browser and pcapng tests that need them will fail.`);
    } else {
      console.error(`lvsim: ${missing.join(' and ')} not found. The end-to-end browser tests need Chromium, the pcapng tests tshark, the scale recipe GNU parallel.\n` +
        `  On Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}\n` +
        '  Or point LVSIM_CHROMIUM at a Chromium or Chrome binary.');
    }
  }
}
