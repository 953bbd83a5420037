/**
 * cli/main.ts: the `lvsim` command (Node only). It reads files, runs the simulation core and
 * prints what the trace says.
 *
 *   lvsim run <scenario> [--seed N] [--json] [--pcap out.pcapng] [--quiet]
 *   lvsim exec <scenario> --host NAME [--at TIME] [--seed N] -- <command...>
 *   lvsim replay <vector.json> [--json]
 *   lvsim bench --workload lb-abstract --connections N --seed S --scheduler wlc|rr [--json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { runScenarioText, type Run } from '../world/world';
import { formatDiagnostic } from '../config/diag';
import { parseDuration, parseScenario } from '../config/scenario';
import { traceToPcapng } from '../trace/pcapng';
import { formatDiagnostics, formatRunText, runSteps } from './format';
import { recordJson } from '../trace/json';

export const USAGE = `usage: lvsim <command> [options]

commands:
  run <scenario.yaml> [--seed N] [--json] [--pcap FILE] [--quiet] [--check]
        run a scenario and print its trace (one line per point a packet passes;
        --json: JSON Lines; --pcap: write every device's frames as pcapng), the
        doctor's findings with the packets that confirm them, and each expect:;
        --check: exit 1 when an expect: of the scenario is not met
  exec <scenario.yaml> --host NAME [--at TIME] [--seed N] -- COMMAND...
        run a read-only command (ipvsadm -Ln, ip route, sysctl ..., nstat -az)
        on a host at a virtual time (default: the end of the run)
  doctor <scenario.yaml> [--json]
        say what will break and why before anything runs: each finding with its
        line, the kernel check it trips and the fix (exit 1 when an error is found)
  replay <vector.json> [--json]
        replay a kernel-recorded vector and compare with what lvsim does
  compare <scenario.yaml> --schedulers rr,wlc,sed,... [--seeds N] [--mode flow|packet] [--json|--csv] [--diff A,B]
        the same synthetic workload under each scheduler, side by side
  bench --workload lb-abstract --connections N --seed S --scheduler wlc|rr [--json]
        the side-by-side engine benchmark (../shared/bench/CONTRACT.md)
  bench-flow [--flow 1e5,1e6] [--packet 1e5,1e6] [--packet-workload 1e5] [--json]
        flow- and packet-mode throughput and memory, as npm run bench reports them
        (run node with --expose-gc for heap readings after GC)
  help  this text
`;

class UsageError extends Error {}

interface Flags { positional: string[]; flags: Map<string, string | true>; rest: string[] }

function parseFlags(argv: readonly string[], withValue: readonly string[]): Flags {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { rest = argv.slice(i + 1); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (withValue.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      } else flags.set(name, true);
    } else positional.push(a);
  }
  return { positional, flags, rest };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function seedOf(f: Flags): number | undefined {
  const s = f.flags.get('seed');
  if (s === undefined) return undefined;
  if (typeof s !== 'string' || !/^\d+$/.test(s) || Number(s) >= 2 ** 32) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got '${s}'`);
  return Number(s);
}

async function cmdRun(argv: readonly string[]): Promise<number> {
  const f = parseFlags(argv, ['seed', 'pcap']);
  const file = f.positional[0];
  if (!file) throw new UsageError('run needs a scenario file: lvsim run scenarios/tun-different-subnets.yaml');
  for (const k of f.flags.keys()) if (!['seed', 'pcap', 'json', 'quiet', 'check'].includes(k)) throw new UsageError(`unknown option --${k} for run (expected --seed, --json, --pcap, --quiet, --check)`);
  const text = readText(file);
  if (text === null) { process.stderr.write(`lvsim: cannot read ${file}\n`); return 2; }
  const run = runScenarioText(text, file, { seed: seedOf(f) });
  const records = run.world.records;
  const pcap = f.flags.get('pcap');
  if (typeof pcap === 'string') writeFileSync(pcap, traceToPcapng(records));
  if (f.flags.has('json')) {
    for (const l of formatDiagnostics(run)) process.stderr.write(l + '\n');
    const lines: string[] = [];
    const steps = runSteps(run);
    for (const r of records) lines.push(JSON.stringify(recordJson(r, steps.of(r.seq))));
    process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
    return run.diagnostics.some(d => d.severity === 'error') ? 1 : 0;
  }
  const { runFindings } = await import('./doctor');
  const checked = runFindings(run, text);
  process.stdout.write(formatRunText(run, { quiet: f.flags.has('quiet') }) + (checked.lines.length ? checked.lines.join('\n') + '\n' : ''));
  if (f.flags.has('check') && checked.failed) return 1;
  return run.diagnostics.some(d => d.severity === 'error') ? 1 : 0;
}

function cmdExec(argv: readonly string[]): number {
  const f = parseFlags(argv, ['host', 'at', 'seed']);
  const file = f.positional[0];
  const host = f.flags.get('host');
  if (!file) throw new UsageError('exec needs a scenario file');
  if (typeof host !== 'string') throw new UsageError('exec needs --host NAME');
  if (!f.rest.length) throw new UsageError('exec needs a command after --, e.g. -- ipvsadm -Ln');
  const text = readText(file);
  if (text === null) { process.stderr.write(`lvsim: cannot read ${file}\n`); return 2; }
  const atRaw = f.flags.get('at');
  let untilNs: number | undefined;
  if (typeof atRaw === 'string') {
    const d = parseDuration(atRaw);
    if (d === null) throw new UsageError(`--at must be a time such as 150ms or 2s, got '${atRaw}'`);
    untilNs = d;
  }
  const parsed = parseScenario(text, file);
  if (!parsed.scenario.hosts.has(host)) {
    process.stderr.write(`lvsim: no host '${host}' in ${file} (hosts: ${[...parsed.scenario.hosts.keys()].join(', ')})\n`);
    return 2;
  }
  const run = runScenarioText(text, file, { seed: seedOf(f), untilNs });
  for (const d of run.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const { isReadOnlyLine } = execHelpers;
  const line = f.rest.map(w => (/[\s'"\\$]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
  if (!isReadOnlyLine(line)) {
    process.stderr.write(`lvsim: exec runs read-only commands only (listings such as ipvsadm -Ln, ip route, sysctl KEY); '${line}' would change the host. Put it in the scenario (setup: or an exec: traffic step).\n`);
    return 2;
  }
  const r = run.world.exec(host, line);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.exit;
}

/** Filled in by main() to avoid loading config tooling for other commands. */
const execHelpers = { isReadOnlyLine: (_l: string) => true };

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run': return await cmdRun(rest);
      case 'exec': {
        const { isReadOnly } = await import('../config/commands');
        const { splitLine } = await import('../config/shell');
        execHelpers.isReadOnlyLine = (l: string) => {
          const s = splitLine(l);
          return s.ok && s.commands.every(c => isReadOnly(c));
        };
        return cmdExec(rest);
      }
      case 'doctor': {
        const { doctorMain } = await import('./doctor');
        return doctorMain(rest);
      }
      case 'replay': {
        const { replayMain } = await import('./replay');
        return replayMain(rest);
      }
      case 'bench': {
        const { benchMain } = await import('./bench');
        return benchMain(rest);
      }
      case 'compare': {
        const { compareMain } = await import('./compare');
        return compareMain(rest);
      }
      case 'bench-flow': {
        const { flowSuiteMain } = await import('./benchFlow');
        return flowSuiteMain(rest);
      }
      case 'bench-suite': {
        const { benchSuiteMain } = await import('./bench');
        return benchSuiteMain(rest);
      }
      case undefined: case 'help': case '--help': case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      case '--version': case '-V':
        process.stdout.write('lvsim 0.1.0\n');
        return 0;
      default:
        process.stderr.write(`lvsim: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lvsim: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
