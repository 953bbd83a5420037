/**
 * Every command line gets a clear answer: unknown options and stray files are refused by the
 * one parser every subcommand uses (exit 2, one line naming what was found and what was
 * expected); an output file that cannot be written is said in the system's words before the
 * run; a reader that closes the pipe early (`| head`) ends the command quietly; `lvsim run`
 * exits 0 / 1 / 2 as its --help and the README say; the time column keeps one unit per run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, USAGE } from '../../src/cli/main';

const REF = 'scenarios/tun-different-subnets.yaml';
const SCN = 'scenarios/compare-schedulers.yaml';
const VECTOR = 'test/fixtures/oracle/baseline.json';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
});
afterEach(() => { vi.restoreAllMocks(); });

/** The lvsim command in this process: exit status, stdout, stderr. */
async function lvsim(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const status = await main(argv);
  return { status, stdout: out, stderr: err };
}

/** A valid command line of each subcommand, and where a stray word goes in it. */
const COMMANDS: Array<{ cmd: string; args: string[]; files: 'one' | 'none' | 'many' }> = [
  { cmd: 'run', args: [REF], files: 'one' },
  { cmd: 'exec', args: [REF, '--host', 'director'], files: 'one' },
  { cmd: 'replay', args: [VECTOR], files: 'one' },
  { cmd: 'doctor', args: [REF], files: 'one' },
  { cmd: 'compare', args: [SCN], files: 'one' },
  { cmd: 'merge', args: ['part-1.json'], files: 'many' },
  { cmd: 'bench', args: [], files: 'none' },
  { cmd: 'bench-flow', args: [], files: 'none' },
  { cmd: 'bench-suite', args: [], files: 'none' },
];
const tail = (cmd: string): string[] => (cmd === 'exec' ? ['--', 'ipvsadm', '-Ln'] : []);

describe('one argument parser: unknown options and extra files are refused on every subcommand', () => {
  for (const { cmd, args, files } of COMMANDS) {
    it(`${cmd}: -x extra.yaml is refused with exit 2, naming the option and what ${cmd} takes`, async () => {
      const r = await lvsim(cmd, ...args, '-x', 'extra.yaml', ...tail(cmd));
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^lvsim ${cmd}: unknown option '-x' \\(${cmd} takes (--[a-z-]+(, )?)+\\)\\n$|^lvsim ${cmd}: unknown option '-x' \\(${cmd} takes no options\\)\\n$`));
    });

    if (files !== 'many') {
      it(`${cmd}: an extra file is refused, not ignored`, async () => {
        const r = await lvsim(cmd, ...args, 'extra.yaml', ...tail(cmd));
        expect(r.status).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(files === 'one'
          ? `lvsim ${cmd}: expected one ${cmd === 'replay' ? 'vector' : 'scenario'} file, got '${args[0]}' and also 'extra.yaml'\n`
          : `lvsim ${cmd}: unexpected argument 'extra.yaml' (no file is taken)\n`);
      });
    }

    it(`${cmd}: --frobnicate=1 is refused`, async () => {
      const r = await lvsim(cmd, ...args, '--frobnicate=1', ...tail(cmd));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^lvsim ${cmd}: unknown option '--frobnicate'`));
    });
  }

  it('a seed in exponent notation is refused alike by run, exec, compare and bench', async () => {
    const msgs: string[] = [];
    for (const [cmd, ...args] of [['run', REF], ['exec', REF, '--host', 'director'], ['compare', SCN], ['bench']]) {
      err = '';
      const r = await lvsim(cmd!, ...args, '--seed', '1e3', ...tail(cmd!));
      expect(r.status, cmd).toBe(2);
      msgs.push(r.stderr.replace(/^lvsim [a-z-]+: /, ''));
    }
    expect(new Set(msgs)).toEqual(new Set(["--seed must be an integer from 0 to 4294967295 in decimal digits, got '1e3'\n"]));
  });

  it('an option missing its value says so instead of taking the next option as the value', async () => {
    const r = await lvsim('run', REF, '--pcap', '--json');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("lvsim run: --pcap needs a value (FILE), got the option '--json'\n");
  });

  it('compare --shard without --out, and a 0-based shard number, are refused with the fix', async () => {
    let r = await lvsim('compare', SCN, '--seeds', '1..10', '--shard', '3/7');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--shard 3\/7 writes a part for lvsim merge: add --out FILE \(such as --out part-3\.json\)/);
    err = '';
    r = await lvsim('compare', SCN, '--seeds', '1..10', '--shard', '0/7', '--out', 'p.json');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/shards are numbered 1 to 7 \(a 0-based index such as Kubernetes JOB_COMPLETION_INDEX: use \$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\)/);
    err = '';
    r = await lvsim('compare', SCN, '--seeds', '1..3', '--shard', '1/4', '--out', join(tmpdir(), 'p.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/4 shards of 3 seed\(s\) would leave shards empty/);
  });

  it('each command answers --help with its own usage, exit 0', async () => {
    for (const cmd of ['run', 'exec', 'replay', 'doctor', 'compare', 'merge', 'bench', 'bench-flow']) {
      out = '';
      const r = await lvsim(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`usage: lvsim ${cmd}`));
    }
  });
});

describe('--pcap to a place that cannot be written', () => {
  it('a directory that does not exist: exit 2 before the run, the reason in words, nothing written', async () => {
    const r = await lvsim('run', REF, '--pcap', '/nonexistent/x.pcapng');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('lvsim run: cannot write --pcap /nonexistent/x.pcapng: No such file or directory (the directory /nonexistent does not exist)\n');
    expect(existsSync('/nonexistent')).toBe(false);
  });

  it('a directory: exit 2, "Is a directory"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const r = await lvsim('run', REF, '--pcap', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`lvsim run: cannot write --pcap ${dir}: Is a directory\n`);
  });

  it('from the shell: no stack trace', () => {
    const r = spawnSync('node', ['bin/lvsim.mjs', 'run', REF, '--pcap', '/nonexistent/x.pcapng'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/ENOENT|\n\s+at /);
  });
});

describe('a reader that stops early (| head)', () => {
  it('run and run --json stop quietly: no EPIPE, no stack, the status the run earned', () => {
    for (const flags of ['', '--json']) {
      const r = spawnSync('bash', ['-c', `node bin/lvsim.mjs run ${REF} ${flags} | head -1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
      expect(r.stderr, flags).toBe('status 0\n');
    }
  });
});

describe('lvsim run exit status: 0 every connection completed, 1 one did not, 2 bad input', () => {
  it('0 for the reference setup, where both connections are answered', async () => {
    expect((await lvsim('run', REF, '--quiet')).status).toBe(0);
  });

  it('1 when a client connection failed (nothing listens: ECONNREFUSED)', async () => {
    const r = await lvsim('run', 'scenarios/misconfig-no-listener.yaml', '--quiet');
    expect(r.stdout).toMatch(/c2 .*: failed: ECONNREFUSED/);
    expect(r.status).toBe(1);
    expect((await lvsim('run', 'scenarios/misconfig-no-listener.yaml', '--json')).status).toBe(1);
  });

  it('1 when a connection is still unfinished where the run stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'cut.yaml');
    writeFileSync(f, readFileSync('scenarios/misconfig-director-rp-filter.yaml', 'utf8') + '\nuntil: 2s\n');
    const r = await lvsim('run', f, '--quiet');
    expect(r.stdout).toMatch(/c1 .*: still connecting/);
    expect(r.status).toBe(1);
  });

  it('with --check, the expect: lines decide: a refusal that was expected exits 0, one that was not exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const base = readFileSync('scenarios/misconfig-no-listener.yaml', 'utf8');
    const expected = join(dir, 'expected.yaml');
    writeFileSync(expected, base.replace('src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, expect: { error: ECONNREFUSED } }'));
    expect((await lvsim('run', expected, '--quiet')).status).toBe(1);
    expect((await lvsim('run', expected, '--quiet', '--check')).status).toBe(0);
    const unexpected = join(dir, 'unexpected.yaml');
    writeFileSync(unexpected, base.replace('src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, expect: ok }'));
    expect((await lvsim('run', unexpected, '--quiet', '--check')).status).toBe(1);
  });

  it('2 for a scenario line in error (the rest still runs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsim-'));
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, readFileSync(REF, 'utf8').replace('-s rr', '-s rrr'));
    const r = await lvsim('run', f, '--quiet');
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/connections:/);
  });

  it('2 for a file that cannot be read, in the system\'s words', async () => {
    const r = await lvsim('run', 'no-such.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('lvsim run: cannot read no-such.yaml: No such file or directory\n');
  });

  it('--help and the README say so', () => {
    expect(USAGE).toMatch(/exit status:\n\s+0 +run: every client connection completed/);
    expect(USAGE).toMatch(/\n\s+1 +run: a client connection failed/);
    expect(USAGE).toMatch(/\n\s+2 +bad input/);
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toMatch(/`lvsim run` exits 0 when every client connection completed, 1 when one failed/);
  });
});

describe('the time column: one unit for the whole run', () => {
  const times = (stdout: string): string[] => stdout.split('\n').filter(l => /^ +\d+\.\d+  \S/.test(l)).map(l => l.trim().split(/\s+/)[0]!);

  it('a 12.5 ms run reads in ms, every row with three decimals', async () => {
    const r = await lvsim('run', REF);
    expect(r.stdout).toMatch(/\n   time\(ms\)  host/);
    const t = times(r.stdout);
    expect(t.length).toBeGreaterThan(100);
    for (const x of t) expect(x).toMatch(/^\d+\.\d{3}$/);
    expect(t.at(-1)).toBe('12.500');
  });

  it('a 63 s run reads in s from its first row to its last (no switch from µs to s)', async () => {
    const r = await lvsim('run', 'scenarios/misconfig-rp-filter-all.yaml');
    expect(r.stdout).toMatch(/\n    time\(s\)  host/);
    const t = times(r.stdout);
    for (const x of t) expect(x).toMatch(/^\d+\.\d{6}$/);
    expect(t[0]).toBe('0.000000');
    expect(t.at(-1)).toBe('63.008300');
    expect(r.stdout).not.toMatch(/µs/);
  });
});

describe('a clone stands on its own', () => {
  it('bench-compare needs the comparison driver named, and says how', () => {
    const env = { ...process.env };
    delete env.LVSIM_BENCH_DRIVER;
    const none = spawnSync('node', ['scripts/bench-compare.mjs'], { encoding: 'utf8', env });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^bench-compare: no comparison driver given: pass --driver PATH or set LVSIM_BENCH_DRIVER/);
    const missing = spawnSync('node', ['scripts/bench-compare.mjs'], { encoding: 'utf8', env: { ...env, LVSIM_BENCH_DRIVER: '/nonexistent/compare.sh' } });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('bench-compare: the comparison driver /nonexistent/compare.sh is not a file\n');
  });
});
