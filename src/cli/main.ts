/**
 * cli/main.ts: the `lvsim` command (Node only). It reads files, runs the simulation core and
 * prints what the trace says.
 *
 *   lvsim run <scenario> [--seed N] [--json] [--pcap out.pcapng] [--quiet]
 *   lvsim exec <scenario> --host NAME [--at TIME] [--seed N] -- <command...>
 *   lvsim replay <vector.json> [--json]
 *   lvsim compare <scenario> ... [--shard I/N --out FILE]      lvsim merge <part.json>...
 *   lvsim bench --workload lb-abstract --connections N --seed S --scheduler wlc|rr [--json]
 */
import { runScenarioText, type Run } from '../world/world';
import { formatDiagnostic } from '../config/diag';
import { parseDuration, parseScenario } from '../config/scenario';
import { traceToPcapng } from '../trace/pcapng';
import { formatDiagnostics, formatRunText, runSteps } from './format';
import { clientOutcome } from '../world/apps';
import { notStarted } from '../world/expect';
import { recordJson } from '../trace/json';
import { SEED, SWITCH, UsageError, get, parseCommand, text, type CommandSpec } from './args';
import { FileError, checkOutput, quietOnClosedPipe, readInput, writeOutput } from './io';
import { LVSIM_VERSION } from './version';
import { nearest } from '../config/ip';

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
        replay a kernel-recorded vector (format 1 or 2) and compare with what lvsim does;
        exit 0 match, 1 differ (or needs what is not modelled yet), 2 bad input
  compare <scenario.yaml> --schedulers rr,wlc,sed,... [--seeds N|A..B] [--shard I/N --out FILE]
          [--mode flow|packet] [--json|--csv|--html] [--diff A,B]
        the same synthetic workload under each scheduler, side by side
  merge <part.json>... [--json|--csv|--html]
        combine the parts of a sharded compare sweep into the report of the whole sweep
  bench --workload lb-abstract --connections N --seed S --scheduler wlc|rr [--json]
        the side-by-side engine benchmark (docs/bench.md)
  bench-flow [--flow 1e5,1e6] [--packet 1e5,1e6] [--packet-workload 1e5] [--json]
        flow- and packet-mode throughput and memory, as npm run bench reports them
        (run node with --expose-gc for heap readings after GC)
  help  this text ('lvsim COMMAND --help' for one command)

Seeds are integers in decimal digits (0 to 4294967295); counts such as --connections also
take exponent notation (1e6).

exit status:
  0  run: every client connection completed (with --check: every expect: is met);
     other commands: success
  1  run: a client connection failed (refused, reset, timed out), was still
     unfinished when the run stopped (answered but not closed) or never started
     (with --check: an expect: is not met);
     doctor: an error found; replay: lvsim differs from the kernel vector
  2  bad input: an unknown option, a missing or unreadable file, a bad value, a scenario
     line with an error (reported as file:line:column; the rest still runs)
`;

const RUN: CommandSpec = {
  name: 'run', positional: { min: 1, max: 1, what: 'scenario file' },
  usage: 'usage: lvsim run <scenario.yaml> [--seed N] [--json] [--pcap FILE] [--quiet] [--check]',
  options: { seed: SEED, json: SWITCH, pcap: text('FILE'), quiet: SWITCH, check: SWITCH },
};
const EXEC: CommandSpec = {
  name: 'exec', positional: { min: 1, max: 1, what: 'scenario file' }, rest: true,
  usage: 'usage: lvsim exec <scenario.yaml> --host NAME [--at TIME] [--seed N] -- COMMAND...',
  options: { host: text('NAME'), at: text('TIME'), seed: SEED },
};
/** replay's options (cli/replay.ts reads them; the line is checked here like every command's). */
const REPLAY: CommandSpec = {
  name: 'replay', positional: { min: 1, max: 1, what: 'vector file' },
  usage: 'usage: lvsim replay <vector.json> [--json]',
  options: { json: SWITCH },
};
/** doctor's options (cli/doctor.ts reads them; the line is checked here like every command's). */
const DOCTOR: CommandSpec = {
  name: 'doctor', positional: { min: 1, max: 1, what: 'scenario file' },
  usage: 'usage: lvsim doctor <scenario.yaml> [--json]',
  options: { json: SWITCH },
};

/** 2 for a scenario line in error, 1 when a client connection did not complete, else 0. */
function runStatus(run: Run): number {
  if (run.diagnostics.some(d => d.severity === 'error')) return 2;
  const done = (c: Run['clients'][number]) => { const o = clientOutcome(c); return o.verdict === 'ok' && !o.releaseUnfinished; };
  return run.clients.every(done) && notStarted(run).length === 0 ? 0 : 1;
}

async function cmdRun(argv: readonly string[]): Promise<number> {
  const a = parseCommand(RUN, argv);
  if (a.help) { process.stdout.write(RUN.usage + '\n'); return 0; }
  const file = a.positional[0]!;
  const pcap = get<string>(a, 'pcap');
  const text = readInput(file);
  if (pcap !== undefined) checkOutput(pcap, '--pcap');
  const run = runScenarioText(text, file, { seed: get<number>(a, 'seed') });
  const records = run.world.records;
  if (pcap !== undefined) writeOutput(pcap, '--pcap', traceToPcapng(records));
  if (a.values.has('json')) {
    for (const l of formatDiagnostics(run)) process.stderr.write(l + '\n');
    const lines: string[] = [];
    const steps = runSteps(run);
    for (const r of records) lines.push(JSON.stringify(recordJson(r, steps.of(r.seq))));
    process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
    return runStatus(run);
  }
  const { runFindings } = await import('./doctor');
  const checked = runFindings(run, text);
  process.stdout.write(formatRunText(run, { quiet: a.values.has('quiet') }) + (checked.lines.length ? checked.lines.join('\n') + '\n' : ''));
  const status = runStatus(run);
  if (status === 2 || !a.values.has('check')) return status;
  return checked.failed ? 1 : 0;
}

async function cmdExec(argv: readonly string[]): Promise<number> {
  const a = parseCommand(EXEC, argv);
  if (a.help) { process.stdout.write(EXEC.usage + '\n'); return 0; }
  const file = a.positional[0]!;
  const host = get<string>(a, 'host');
  if (host === undefined) throw new UsageError('exec needs --host NAME');
  if (!a.rest.length) throw new UsageError('exec needs a command after --, e.g. -- ipvsadm -Ln');
  const text = readInput(file);
  const atRaw = get<string>(a, 'at');
  let untilNs: number | undefined;
  if (atRaw !== undefined) {
    const d = parseDuration(atRaw);
    if (d === null) throw new UsageError(`--at must be a time such as 150ms or 2s, got '${atRaw}'`);
    untilNs = d;
  }
  const parsed = parseScenario(text, file);
  if (!parsed.scenario.hosts.has(host)) {
    const names = [...parsed.scenario.hosts.keys()];
    const guess = nearest(host, names);
    process.stderr.write(`lvsim: no host '${host}' in ${file}${guess ? `; did you mean '${guess}'?` : ''} (hosts: ${names.join(', ')})\n`);
    return 2;
  }
  const line = a.rest.map(w => (/[\s'"\\$]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
  const { HostConsole, consoleRefusal } = await import('../world/console');
  const refused = consoleRefusal(line);
  if (refused !== null) {
    process.stderr.write(`lvsim: ${refused.reason === 'changes-host' ? 'exec runs read-only commands only: ' : ''}${refused.message}\n`);
    return 2;
  }
  const shell = new HostConsole(text, file, get<number>(a, 'seed'));
  const diagnostics = shell.runAt(untilNs).diagnostics;
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const r = shell.exec(host, line, untilNs);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  // As run and doctor: a scenario with errors is not the configuration it claims to be.
  return diagnostics.some(d => d.severity === 'error') ? 2 : r.exit;
}


export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run': return await cmdRun(rest);
      case 'exec': return await cmdExec(rest);
      case 'doctor': {
        const a = parseCommand(DOCTOR, rest);
        if (a.help) { process.stdout.write(DOCTOR.usage + '\n'); return 0; }
        const { doctorMain } = await import('./doctor');
        return doctorMain(rest);
      }
      case 'replay': {
        const a = parseCommand(REPLAY, rest);
        if (a.help) { process.stdout.write(REPLAY.usage + '\n'); return 0; }
        const { replayMain } = await import('./replay');
        return replayMain(rest);
      }
      case 'bench': {
        const { benchMain } = await import('./bench');
        return benchMain(rest);
      }
      case 'compare': {
        const { compareMain } = await import('./compare');
        return await compareMain(rest);
      }
      case 'merge': {
        const { mergeMain } = await import('./merge');
        return mergeMain(rest);
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
        process.stdout.write(`lvsim ${LVSIM_VERSION}\n`);
        return 0;
      default:
        process.stderr.write(`lvsim: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof FileError) {
      process.stderr.write(`lvsim ${cmd}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
