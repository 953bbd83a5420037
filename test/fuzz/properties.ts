/**
 * The properties every parser of lvsim keeps on any input, shared by the test suite (a few
 * hundred inputs each, fixed seed) and `npm run fuzz` (100,000 and more each):
 *  - it never throws: bad input becomes the project's own diagnostics or the tool's message;
 *  - every diagnostic has a valid position: a line of the text, a column within that line
 *    (or just past its end), an underline that ends after it starts;
 *  - a run of a generated scenario ends every packet exactly once.
 * Generators mix the tokens each language is made of with arbitrary text and with mutations
 * of the shipped scenarios, so most inputs get past the first check of the parser.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Diagnostic } from '../../src/config/diag';
import { parseScenario } from '../../src/config/scenario';
import { parseWorkload } from '../../src/workload/spec';
import { splitLine } from '../../src/config/shell';
import { runCommand } from '../../src/config/commands';
import { parseSysctlConf } from '../../src/config/sysctl';
import { parseIfcfg } from '../../src/config/ifcfg';
import { restoreLines } from '../../src/config/ipvsadm';
import type { ToolContext, ToolResult } from '../../src/config/tool';
import { Engine } from '../../src/sim/engine';
import { Host } from '../../src/kernel/host';
import { TraceLog } from '../../src/trace/sink';
import { TERMINAL_VERDICTS } from '../../src/trace/record';
import { Ipvs } from '../../src/ipvs/ipvs';
import { runScenarioText } from '../../src/world/world';
import { scenarioDiagnostics } from '../../src/workload/check';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
export const REF = read('scenarios/tun-different-subnets.yaml');
const COMPARE = read('scenarios/compare-schedulers.yaml');

/** A property target: how to make inputs, and what must hold for each (null: it holds). */
export interface Target<T> {
  readonly name: string;
  readonly arb: fc.Arbitrary<T>;
  /** Throws when the code under test throws; returns what went wrong otherwise, or null. */
  check(input: T): string | null;
  /** Inputs per `npm run fuzz` (runs of whole scenarios are slower than parses). */
  readonly fuzzRuns?: number;
  /** An input taking longer than this (ms) counts as a hang in `npm run fuzz` (default 1000). */
  readonly hangMs?: number;
}

// ------------------------------------------------------------------ generators

const YAML_PIECES = ['hosts:', 'links:', 'traffic:', 'workload:', 'setup: |', 'setup: >', 'files:', 'listen:', 'ends: [a:eth0, b:eth0]',
  '- ', ': ', '{', '}', '[', ']', ',', '|', '>', '&a', '*a', '!!str', '!!map', '#', '"', "'", '\\', '\t', '\n', '\n  ', '\n    ', '  ', '?', '-1',
  '1e999', 'null', '~', '%YAML 1.2', '---', '...', '\u0000', '\u2028', '\ufeff', '😀', 'é', 'connect: 172.16.29.6:9001', 'from: client',
  'exec: ipvsadm -Ln', 'at: 5ms', 'release: c1', 'until: 1s', 'seed: 7', 'mtu: 1400', 'latency: 1ms', 'role: director',
  'fault: crash', 'fault: link-down', 'fault: service-stop', 'host: a', 'dev: eth0', 'link: l1', 'service: x'];

const SHELL_PIECES = ['ip', 'ipvsadm', 'sysctl', 'echo', 'cat', 'ifconfig', 'route', 'modprobe', 'sudo', ' ', ' ', '\t', "'", '"', '\\', '>', '>>',
  '|', '||', '&&', ';', '&', '#', '$HOME', '`', '(', ')', '<', '-w', '-A', '-t', '172.16.29.6:9001', '/proc/sys/net/ipv4/ip_forward', '1', '=', '\r'];

/** Words of each tool's language, so generated command lines reach past the first check. */
const TOOL_WORDS: Readonly<Record<string, readonly string[]>> = {
  ip: ['addr', 'address', 'a', 'add', 'del', 'change', 'replace', 'show', 'flush', 'link', 'l', 'set', 'up', 'down', 'mtu', 'address', 'name',
    'type', 'dummy', 'ipip', 'route', 'r', 'get', 'via', 'dev', 'src', 'metric', 'scope', 'link', 'host', 'global', 'table', 'main', 'default',
    'neigh', 'lladdr', 'nud', 'permanent', 'tunnel', 'mode', 'local', 'remote', 'ttl', 'eth0', 'eth1', 'tunl0', 'lo', 'label', 'brd', '+',
    '10.0.0.1/24', '172.16.29.6/32', '172.16.29.6', '0.0.0.0/0', '10.2.0.1/24', '255.255.255.255', '65536', '1500', '68', '0',
    '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '-4', '-s', '-d', 'help', 'blackhole', 'unreachable', 'proto', 'static'],
  ipvsadm: ['-A', '-E', '-D', '-C', '-a', '-e', '-d', '-L', '-l', '-n', '-c', '-t', '-u', '-f', '-s', '-r', '-g', '-i', '-m', '-w', '-x', '-y',
    '-p', '-M', '--stats', '--rate', '--exact', '--timeout', '--set', '--start-daemon', '--stop-daemon', '--sort', '-R', '-S', 'rr', 'wrr', 'lc',
    'wlc', 'sh', 'dh', 'mh', 'sed', 'nq', 'lblc', 'lblcr', 'fo', 'ovf', 'twos', '172.16.29.6:9001', '172.16.197.3:9001', '[::1]:80', '1', '0', '65536',
    '255.255.255.0', 'master', 'backup', '--mcast-interface', 'eth0', '--tun-type', 'ipip', 'gue', '--tun-port', '-b', 'sh-port', 'flag-1'],
  sysctl: ['-w', '-p', '-a', '-n', '-N', '-q', '-e', '-r', '--system', 'net.ipv4.ip_forward=1', 'net.ipv4.ip_default_ttl=256', 'net.ipv4.ip_default_ttl',
    'net.ipv4.conf.all.rp_filter=2', 'net.ipv4.conf.tunl0.rp_filter=0', 'net/ipv4/ip_forward=0', 'net.ipv4.tcp_syn_retries=0', 'net.ipv4.vs.conntrack=1',
    'net.ipv4.ip_local_port_range=1 65535', '/etc/sysctl.conf', '=', 'a=b'],
  ifconfig: ['-a', 'eth0', 'eth0:1', 'tunl0', 'lo', 'up', 'down', 'netmask', '255.255.255.0', 'broadcast', 'mtu', '1400', 'hw', 'ether',
    '172.16.29.6', '0.0.0.0', 'add', 'del', 'arp', '-arp'],
  route: ['-n', 'add', 'del', '-net', '-host', 'default', 'gw', 'netmask', 'dev', 'metric', 'reject', '10.0.0.0', '10.0.0.0/8', '255.0.0.0', 'eth0'],
  modprobe: ['ipip', 'ip_vs', 'ip_vs_rr', 'ip_vs_wlc', 'dummy', '-r', '-v', '-D', '--show-depends', 'ipipp'],
  echo: ['1', '0', '2', '-n', '-e', '>', '>>', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/conf/all/rp_filter', '/proc/sys/net/ipv4/ip_froward', '/etc/x'],
  cat: ['/proc/sys/net/ipv4/ip_forward', '/etc/sysctl.conf', '/proc/net/ip_vs', '/nonexistent'],
  systemctl: ['start', 'stop', 'restart', 'reload', 'status', 'enable', 'disable', 'is-active', 'keepalived', 'ipvsadm', 'network', 'systemd-sysctl'],
  nstat: ['-a', '-z', '-s', '-r', '-n', 'IpInReceives', 'TcpExtListenDrops'],
  netstat: ['-s', '-n', '-t', '-l', '-a'],
};

const textFrom = (pieces: readonly string[], maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pieces) }, { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) }), { maxLength }).map(a => a.join(''));

/** Mutations of a shipped text: deletions, insertions of tokens, replaced characters. */
const mutationOf = (base: string, pieces: readonly string[]): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.nat({ max: base.length }), fc.integer({ min: 0, max: 2 }), fc.constantFrom(...pieces), fc.integer({ min: 1, max: 30 })), { minLength: 1, maxLength: 8 })
    .map(ops => {
      let s = base;
      for (const [at, op, piece, n] of ops) {
        const i = Math.min(at, s.length);
        if (op === 0) s = s.slice(0, i) + s.slice(i + n);
        else if (op === 1) s = s.slice(0, i) + piece + s.slice(i);
        else s = s.slice(0, i) + String.fromCharCode(32 + (n * 7) % 95) + s.slice(i + 1);
      }
      return s;
    });

export const scenarioText = fc.oneof(textFrom(YAML_PIECES, 60), mutationOf(REF, YAML_PIECES), fc.string({ maxLength: 200, unit: 'binary' }));
const workloadText = fc.oneof(mutationOf(COMPARE, YAML_PIECES), textFrom(['workload:\n  ', 'requests: ', 'sample: ', '1ns', '1e15', '{dist: pareto, min: 1, alpha: 0.05}', 'events:\n    - ', '{at: 1s, fail: rs9}', 'connections: ', ...YAML_PIECES], 40));

const words = (tool: string): fc.Arbitrary<string[]> =>
  fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TOOL_WORDS[tool]!) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), { maxLength: 10 });

// ------------------------------------------------------------------ checks

/** What is wrong with a diagnostic's position in `text`, or null. */
export function badPosition(d: Diagnostic, text: string): string | null {
  const lines = text.split('\n');
  const where = `${d.line}:${d.col}-${d.endCol} (${JSON.stringify(d.found).slice(0, 40)})`;
  if (![d.line, d.col, d.endCol].every(Number.isInteger)) return `non-integer position ${where}`;
  if (d.line < 1 || d.line > Math.max(1, lines.length)) return `line outside the text (${lines.length} lines): ${where}`;
  const len = (lines[d.line - 1] ?? '').length;
  if (d.col < 1 || d.col > len + 1) return `column outside line ${d.line} (length ${len}): ${where}`;
  if (d.endCol <= d.col) return `underline ends before it starts: ${where}`;
  if (d.endCol > Math.max(len + 1, d.col + 1)) return `underline past the end of line ${d.line} (length ${len}): ${where}`;
  return null;
}

const firstBad = (diags: readonly Diagnostic[], text: string): string | null => {
  for (const d of diags) { const b = badPosition(d, text); if (b) return b; }
  return null;
};

/** A tool's result keeps the contract of config/tool.ts: a real exit status, a word that exists. */
function badResult(r: ToolResult, argc: number): string | null {
  if (!Number.isInteger(r.exit) || r.exit < 0 || r.exit > 255) return `exit status ${r.exit}`;
  if (/internal error/.test(r.stderr)) return `internal error: ${r.stderr.trim().slice(0, 120)}`;
  if (r.exit !== 0 && r.errorAt && (r.errorAt.word < 0 || r.errorAt.word > argc)) return `errorAt word ${r.errorAt.word} of ${argc}`;
  for (const w of r.warnings ?? []) if (w.word < 0 || w.word > argc) return `warning at word ${w.word} of ${argc}`;
  return null;
}

/** A host with two ethernet devices, ip_vs loaded and one service, as tools meet it in a scenario. */
function toolHost(): ToolContext {
  const engine = new Engine(1);
  const host = new Host('h', engine, new TraceLog());
  for (const e of ['eth0', 'eth1']) host.createDevice(e, 'ether').carrier = true;
  const ipvs = new Ipvs(engine, host.sysctl);
  const files = new Map([['/etc/sysctl.conf', 'net.ipv4.ip_forward = 1\nnet.ipv4.vs.conntrack = 1\n']]);
  const ctx: ToolContext = { host, ipvs, now: 0, files };
  for (const l of ['ip addr add 172.16.29.6/24 dev eth0', 'ip link set eth0 up', 'modprobe ipip', 'ipvsadm -A -t 172.16.29.6:9001 -s rr']) {
    const s = splitLine(l);
    if (s.ok) runCommand(s.commands[0]!, ctx);
  }
  return ctx;
}

/** Every packet of a run's trace ends exactly once, and every drop says why. */
export function badConservation(records: ReadonlyArray<{ packet: { id: number }; verdict: string; reason?: unknown }>): string | null {
  const ends = new Map<number, number>();
  for (const r of records) {
    if (!ends.has(r.packet.id)) ends.set(r.packet.id, 0);
    if (TERMINAL_VERDICTS.has(r.verdict as never)) ends.set(r.packet.id, ends.get(r.packet.id)! + 1);
    if (r.verdict === 'drop' && !r.reason) return `a drop of packet #${r.packet.id} without a reason`;
  }
  for (const [id, n] of ends) if (n !== 1) return `packet #${id} ended ${n} times`;
  return null;
}

// ------------------------------------------------------------------ targets

/**
 * One host serves HOST_REUSE inputs in a row (tools change it as they would a real host), then
 * a fresh one: building a host per input would cost more than the tool under test.
 */
const HOST_REUSE = 50;
let reused: { ctx: ToolContext; uses: number } | null = null;
function sharedHost(): ToolContext {
  if (!reused || ++reused.uses >= HOST_REUSE) reused = { ctx: toolHost(), uses: 0 };
  return reused.ctx;
}

const toolTarget = (tool: string): Target<string[]> => ({
  name: `tool ${tool}`,
  arb: words(tool),
  check(args) {
    const argv = [tool, ...args].map((text, i) => ({ text, col: i + 1, endCol: i + 2 }));
    const redirect = tool === 'echo' && args.length > 1 ? { op: '>' as const, target: argv[argv.length - 1]! } : undefined;
    const cmd = redirect ? { words: argv.slice(0, -1), redirect } : { words: argv };
    return badResult(runCommand(cmd, sharedHost()), cmd.words.length);
  },
});

export const TARGETS: ReadonlyArray<Target<never>> = [
  {
    name: 'shell', arb: textFrom(SHELL_PIECES, 30),
    check: (line: string) => {
      const s = splitLine(line);
      if (!s.ok) return s.col >= 1 && s.col <= line.length + 1 ? null : `syntax error at column ${s.col} of ${line.length}`;
      for (const c of s.commands) for (const w of [...c.words, ...(c.redirect ? [c.redirect.target] : [])]) {
        if (w.col < 1 || w.endCol < w.col || w.endCol > line.length + 1) return `word '${w.text}' at ${w.col}-${w.endCol} of ${line.length}`;
      }
      return null;
    },
  },
  { name: 'sysctl.conf', arb: textFrom(['net.ipv4.ip_forward', ' = ', '=', '1', '\n', '#', ';', '-', ' ', '\t', 'net.ipv4.vs.conntrack', '\r'], 30), check: (t: string) => firstBad(parseSysctlConf(t, '/etc/sysctl.conf').diagnostics, t) },
  { name: 'ifcfg', arb: textFrom(['DEVICE=', 'IPADDR=', 'NETMASK=', 'PREFIX=', 'ONBOOT=', 'yes', 'eth0', 'tunl0', '172.16.29.6', '255.255.255.255', '32', '"', "'", '\n', '#', ' ', '=', 'MTU=', '1400', '$X'], 30), check: (t: string) => firstBad(parseIfcfg(t, '/etc/sysconfig/network-scripts/ifcfg-eth0').diagnostics, t) },
  { name: 'ipvsadm-restore', arb: textFrom(['-A', '-a', '-t', '172.16.29.6:9001', '-r', '172.16.197.3:9001', '-s', 'rr', '-i', '-w', '1', ' ', '\n', '#', '-C', 'x'], 30),
    check: (t: string) => { restoreLines(t, sharedHost()); return null; } },
  ...Object.keys(TOOL_WORDS).map(toolTarget),
  { name: 'scenario', arb: scenarioText, check: (t: string) => firstBad(parseScenario(t, 'f.yaml').diagnostics, t) },
  { name: 'workload', arb: workloadText, check: (t: string) => firstBad(parseWorkload(t, 'f.yaml').diagnostics, t) },
  {
    name: 'scenarioDiagnostics', arb: scenarioText, fuzzRuns: 3_000, hangMs: 5_000,
    check: (t: string) => firstBad(scenarioDiagnostics(t, 'f.yaml'), t),
  },
  {
    name: 'run (packets end once)', fuzzRuns: 500, hangMs: 20_000,
    arb: fc.tuple(
      fc.constantFrom('net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.tunl0.rp_filter=2', 'net.ipv4.ip_default_ttl=2', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.ip_no_pmtu_disc=1'),
      fc.constantFrom('director', 'rs1', 'rs2', 'router', 'client'),
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 2000 }), port: fc.constantFrom(9001, 9002, 22), send: fc.constantFrom(0, 100, 3000, 20000), mode: fc.constantFrom('close', 'hold') }), { minLength: 1, maxLength: 4 }),
    ),
    check: ([sysctl, host, steps]: [string, string, Array<{ at: number; port: number; send: number; mode: string }>]) => {
      // The reference scenario with one sysctl changed on one host and generated traffic.
      let text = REF.replace(new RegExp(`(\\n  ${host}:\\n(?:.*\\n)*?    setup: \\|\\n)`), `$1      sysctl -w ${sysctl}\n`);
      text = text.replace(/\ntraffic:[\s\S]*$/, '\ntraffic:\n' + steps.map(s => `  - { connect: 172.16.29.6:${s.port}, from: client, at: ${s.at}us, send: ${s.send}, mode: ${s.mode} }`).join('\n') + '\n');
      const run = runScenarioText(text, 'gen.yaml', { untilNs: 3_000_000_000 });
      return firstBad(run.diagnostics, text) ?? badConservation(run.world.records);
    },
  },
] as never;
