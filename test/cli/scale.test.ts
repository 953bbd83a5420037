/**
 * docs/scale.md's recipes, run as written (with fewer schedulers, seeds and connections): the
 * Kubernetes Indexed Job's container command for every JOB_COMPLETION_INDEX, the CI matrix's
 * step for every shard, GNU parallel's command line (on the local login ':' here: the ssh
 * transport itself needs remote machines), each followed by its merge, give the unsplit
 * sweep's report byte for byte. And the container image's runtime stage (the bundle, the
 * launcher, the scenarios; no node_modules) runs compare to the same report as the sources;
 * the recipes then run on that bundle, as the image would, since it starts in a fraction of the
 * time the sources take through tsx.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve('.');
/** The image's file layout in a temporary directory: the bundle, the launcher, the scenarios. */
const IMG = mkdtempSync(join(tmpdir(), 'lvsim-image-'));
const LVSIM = `node ${IMG}/bin/lvsim.mjs`;
const SLOW = 300_000;
const SCN = 'scenarios/compare-schedulers.yaml';
const doc = readFileSync('docs/scale.md', 'utf8');
const hasParallel = spawnSync('sh', ['-c', 'command -v parallel']).status === 0;
if (!hasParallel) console.warn('GNU parallel not found: skipping its recipe (apt-get install parallel)');

/** The code block after `<!-- recipe: NAME -->`. */
function recipe(name: string): string {
  const m = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(doc);
  if (!m) throw new Error(`docs/scale.md has no recipe ${name}`);
  return m[1]!;
}

/** The recipe's sweep, made small enough for a test; each replaced word must be there. */
function small(cmd: string): string {
  for (const w of ['--schedulers rr,wrr,lc,wlc,sed,nq,sh,mh', '--seeds 1..1000', '/7']) expect(cmd, 'the recipe names the documented sweep').toContain(w);
  const c = cmd.replace('--schedulers rr,wrr,lc,wlc,sed,nq,sh,mh', '--schedulers rr,wlc').replace('--seeds 1..1000', '--seeds 1..7 --connections 60').replace('--jobs 2', '');
  return c.replace(/--progress json/, '--progress json --jobs 1');
}

function sh(cmd: string, cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, `${cmd}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A directory where `scenarios/` is the project's, as in a checkout or the image's WORKDIR. */
function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsim-scale-'));
  symlinkSync(join(ROOT, 'scenarios'), join(d, 'scenarios'));
  return d;
}

const unsplit = (format: string): string => sh(`${LVSIM} compare ${SCN} --schedulers rr,wlc --seeds 1..7 --connections 60 --jobs 1 ${format}`, ROOT);

beforeAll(() => {
  sh(`node scripts/build-cli.mjs ${IMG}/dist`, ROOT);
  mkdirSync(join(IMG, 'bin'));
  copyFileSync('bin/lvsim.mjs', join(IMG, 'bin', 'lvsim.mjs'));
  copyFileSync('package.json', join(IMG, 'package.json'));
  symlinkSync(join(ROOT, 'scenarios'), join(IMG, 'scenarios'));
}, SLOW);

describe('the container image', () => {
  it('its runtime stage (bundle, launcher, scenarios, no node_modules) runs compare to the same report as the sources', () => {
    const df = readFileSync('Dockerfile', 'utf8');
    const runtime = df.slice(df.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/WORKDIR \/opt\/lvsim/);
    for (const p of ['bin', 'dist', 'scenarios']) expect(runtime).toContain(`COPY --from=build /src/${p} ./${p}`);
    expect(runtime).toContain('ENTRYPOINT ["node", "/opt/lvsim/bin/lvsim.mjs"]');
    expect(df).toContain('RUN node scripts/build-cli.mjs');
    const args = `compare ${SCN} --schedulers rr,wlc --seeds 1..2 --connections 60`;
    // Two worker threads: the bundled worker module is used too.
    const got = sh(`node bin/lvsim.mjs ${args} --jobs 2 --json --progress none`, IMG);
    expect(got).toBe(sh(`node ${ROOT}/bin/lvsim.mjs ${args} --jobs 1 --json`, ROOT));
  }, SLOW);
});

describe('docs/scale.md recipes give the unsplit report', () => {
  let html = '';
  let text = '';
  beforeAll(() => {
    html = unsplit('--html');
    text = unsplit('');
  }, SLOW);

  it('Kubernetes Indexed Job: one pod per JOB_COMPLETION_INDEX, then the merge', () => {
    const job = parse(recipe('kubernetes'));
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(7);
    expect(job.spec.parallelism).toBe(7);
    const c = job.spec.template.spec.containers[0];
    expect(c.command).toEqual(['sh', '-c']);
    const arg: string = c.args[0];
    expect(arg).toMatch(/^exec node \/opt\/lvsim\/bin\/lvsim\.mjs compare /);
    expect(c.volumeMounts[0].mountPath).toBe('/out');
    const out = mkdtempSync(join(tmpdir(), 'lvsim-k8s-out-'));
    const cmd = small(arg).replace('node /opt/lvsim/bin/lvsim.mjs', LVSIM).replaceAll('/out/', `${out}/`);
    for (let i = 0; i < job.spec.completions; i++) sh(cmd, ROOT, { JOB_COMPLETION_INDEX: String(i) });
    expect(readdirSync(out).sort()).toEqual([1, 2, 3, 4, 5, 6, 7].map(i => `part-${i}.json`));
    const merge = recipe('kubernetes-merge').trim().replace('node /opt/lvsim/bin/lvsim.mjs', LVSIM).replaceAll('/out/', `${out}/`);
    sh(merge, ROOT);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toBe(html);
  }, SLOW);

  it('a CI matrix: the shard step for every matrix entry, then the merge job', () => {
    const wf = parse(recipe('ci'));
    const shards: number[] = wf.jobs.shard.strategy.matrix.shard;
    expect(shards).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const step: string = wf.jobs.shard.steps.map((s: { run?: string }) => s.run).find((r?: string) => r?.includes('lvsim compare'));
    const d = workdir();
    for (const i of shards) sh(small(step).replaceAll('${{ matrix.shard }}', String(i)).replace('npx lvsim', LVSIM), d);
    expect(wf.jobs.merge.needs).toBe('shard');
    const merge: string = wf.jobs.merge.steps.map((s: { run?: string }) => s.run).find((r?: string) => r?.includes('lvsim merge'));
    sh(merge.replace('npx lvsim', LVSIM), d);
    expect(readFileSync(join(d, 'report.html'), 'utf8')).toBe(html);
  }, SLOW);

  it.runIf(hasParallel)('GNU parallel: the same command line on the local login, then the merge', () => {
    const d = workdir();
    // The remote checkout (~/lvsim in the recipe), built: the launcher and the scenarios.
    mkdirSync(join(d, 'lvsim'));
    symlinkSync(join(IMG, 'bin'), join(d, 'lvsim', 'bin'));
    symlinkSync(join(ROOT, 'scenarios'), join(d, 'lvsim', 'scenarios'));
    const cmd = small(recipe('parallel')).replace('--sshloginfile hosts.txt', '--will-cite --sshlogin :');
    expect(recipe('parallel')).toContain('--sshloginfile hosts.txt');
    sh(cmd, d);
    // On ':' the parts stay in the working directory; over ssh --return brings them back.
    sh(recipe('parallel-merge').trim().replace('npx lvsim', LVSIM), join(d, 'lvsim'));
    expect(readFileSync(join(d, 'lvsim', 'report.txt'), 'utf8')).toBe(text);
  }, SLOW);
});

