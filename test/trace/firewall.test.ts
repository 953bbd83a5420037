/**
 * The trace names every iptables rule a packet matched (ipt_do_table's walk: jumps into user
 * chains, RETURN, LOG, rules without a target, the policy when nothing decided), with the rule
 * number and its `iptables -S` text; an iptables drop names the rule in its reason. From those
 * records and the rule set of the last commit, xtablesAt gives every counter at any position,
 * equal to what `iptables -L -v -n -x` prints in the console at that moment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { HostConsole } from '../../src/world/console';
import { ruleHitOf, ruleHitText, xtablesAt } from '../../src/trace/firewall';
import type { TraceRecord } from '../../src/trace/record';
import { CountingSink } from '../../src/trace/sink';
import { recordJson } from '../../src/trace/json';
import { ipv4TotalLength } from '../../src/net/packet';
import type { XtablesState } from '../../src/trace/state';

const LAN = `name: rules on a server
seed: 1
links:
  - { name: lan, ends: [client:eth0, server:eth0], latency: 100us }
hosts:
  client:
    role: client
    setup: |
      ip link set eth0 up
      ip addr add 10.0.0.1/24 dev eth0
  server:
    role: host
    setup: |
      ip link set eth0 up
      ip addr add 10.0.0.2/24 dev eth0
      iptables -N CHECKS
      iptables -N SVC
      iptables -A INPUT -p icmp -j ACCEPT
      iptables -A INPUT -p tcp -j CHECKS
      iptables -A INPUT -p tcp --dport 9001 -j SVC
      iptables -A INPUT -p tcp --dport 9002 -j REJECT --reject-with tcp-reset
      iptables -A CHECKS -j LOG --log-prefix "in: "
      iptables -A CHECKS -p tcp --syn -j RETURN
      iptables -A CHECKS -p tcp
      iptables -A SVC -s 10.0.0.1 -j ACCEPT
      iptables -A OUTPUT -p tcp --sport 9001 -j RETURN
      iptables -A OUTPUT -p tcp --tcp-flags RST RST -j ACCEPT
    listen:
      - { proto: tcp, port: 9001, name: S }
traffic:
  - { id: c1, connect: 10.0.0.2:9001, from: client, src: 10.0.0.1:40001 }
  - { id: c2, connect: 10.0.0.2:9002, from: client, src: 10.0.0.1:40002 }
`;

/** [verdict, table chain rule] of each rule match of a packet on a host at a hook. */
function walk(records: readonly TraceRecord[], id: number, host: string, hook: string): string[] {
  return records.filter(r => r.packet.id === id && r.host === host && r.point === hook && ruleHitOf(r))
    .map(r => { const h = ruleHitOf(r)!; return `${r.verdict} ${h.table} ${h.chain} ${h.rule}`; });
}

describe('ipt_do_table in the trace: which rule matched', () => {
  const run = runScenarioText(LAN, 'lan.yaml');
  const rs = run.world.records;
  it('the rule set loads without a diagnostic', () => { expect(run.diagnostics).toEqual([]); });
  const syn = (dport: number) => rs.find(r => r.host === 'server' && r.point === 'INPUT' && r.packet.pkt.proto === 'ipv4' && r.packet.pkt.payload.proto === 'tcp' && r.packet.pkt.payload.dport === dport && r.packet.pkt.payload.flags === 0x02)!.packet.id;

  it('a SYN jumps into CHECKS, is logged, RETURNs, jumps into SVC and is accepted there', () => {
    expect(walk(rs, syn(9001), 'server', 'INPUT')).toEqual([
      'match filter INPUT 2', 'match filter CHECKS 1', 'match filter CHECKS 2', 'match filter INPUT 3', 'accept filter SVC 1',
    ]);
  });

  it('a later segment falls through CHECKS (a rule without a target counts and goes on) back to INPUT', () => {
    const ack = rs.find(r => r.host === 'server' && r.point === 'INPUT' && r.packet.pkt.proto === 'ipv4' && r.packet.pkt.payload.proto === 'tcp' && r.packet.pkt.payload.dport === 9001 && r.packet.pkt.payload.flags === 0x10)!;
    expect(walk(rs, ack.packet.id, 'server', 'INPUT')).toEqual([
      'match filter INPUT 2', 'match filter CHECKS 1', 'match filter CHECKS 3', 'match filter INPUT 3', 'accept filter SVC 1',
    ]);
  });

  it('REJECT names its rule in the drop, and the reset it sends is accepted by OUTPUT rule 2', () => {
    const id = syn(9002);
    expect(walk(rs, id, 'server', 'INPUT')).toEqual(['match filter INPUT 2', 'match filter CHECKS 1', 'match filter CHECKS 2', 'drop filter INPUT 4']);
    const drop = rs.find(r => r.packet.id === id && r.verdict === 'drop')!;
    expect(ruleHitText(ruleHitOf(drop)!)).toBe('filter INPUT rule 4: -A INPUT -p tcp -m tcp --dport 9002 -j REJECT --reject-with tcp-reset');
    const rst = rs.find(r => r.cause === id && r.host === 'server' && r.point === 'OUTPUT' && r.rule)!;
    expect(rst.rule).toMatchObject({ table: 'filter', chain: 'OUTPUT', rule: 2, text: '-A OUTPUT -p tcp -m tcp --tcp-flags RST RST -j ACCEPT' });
  });

  it('RETURN in a built-in chain leaves the decision to the policy, and the record says "policy ACCEPT"', () => {
    const synack = rs.find(r => r.host === 'server' && r.point === 'OUTPUT' && r.packet.pkt.proto === 'ipv4' && r.packet.pkt.payload.proto === 'tcp' && r.packet.pkt.payload.sport === 9001)!;
    const hits = rs.filter(r => r.packet.id === synack.packet.id && r.host === 'server' && r.point === 'OUTPUT' && r.rule);
    expect(hits.map(r => [r.verdict, r.rule!.rule, r.note])).toEqual([
      ['match', 1, 'filter OUTPUT rule 1: -A OUTPUT -p tcp -m tcp --sport 9001 -j RETURN'],
      ['accept', 0, 'filter OUTPUT: policy ACCEPT'],
    ]);
  });

  it('every rule text is the line iptables -S prints, and bytes are the IP total length', () => {
    const listed = new Set(run.world.exec('server', 'iptables -S').stdout.split('\n'));
    const hits = rs.filter(r => r.rule);
    expect(hits.length).toBeGreaterThan(20);
    for (const r of hits) {
      expect(listed.has(r.rule!.text), r.rule!.text).toBe(true);
      expect(r.rule!.bytes).toBe(ipv4TotalLength(r.packet.pkt as never));
    }
  });

  it('lvsim run --json carries the rule of each match', () => {
    const r = rs.find(x => x.rule && x.rule.rule > 0)!;
    expect(recordJson(r).rule).toEqual(r.rule);
  });

  it('a host without tables has no rule records, and the client passes its hooks without one', () => {
    expect(rs.some(r => r.host === 'client' && (r.rule || r.note?.includes('filter')))).toBe(false);
  });

  it('with the trace off, no rule is recorded and the run ends the same', () => {
    const sink = new CountingSink();
    const off = runScenarioText(LAN, 'lan.yaml', { trace: sink });
    expect(off.world.records).toHaveLength(0);
    expect(off.clients.map(c => [c.ok, c.error])).toEqual(run.clients.map(c => [c.ok, c.error]));
    expect(run.world.exec('server', 'iptables-save -c').stdout.replace(/^#.*\n/gm, '')).toBe(off.world.exec('server', 'iptables-save -c').stdout.replace(/^#.*\n/gm, ''));
  });
});

/** Every chain's counters as `iptables -t T -L -v -n -x` prints them: "table chain policy|rule n: pkts bytes". */
function listed(out: (table: string) => string, tables: readonly string[]): string[] {
  const rows: string[] = [];
  for (const t of tables) {
    let chain = '';
    let n = 0;
    for (const line of out(t).split('\n')) {
      const head = /^Chain (\S+) \((?:policy (\S+) (\d+) packets, (\d+) bytes|\d+ references)\)/.exec(line);
      if (head) { chain = head[1]!; n = 0; if (head[2]) rows.push(`${t} ${chain} policy ${head[2]}: ${head[3]} ${head[4]}`); continue; }
      const rule = /^\s+(\d+)\s+(\d+)\s/.exec(line);
      if (rule) rows.push(`${t} ${chain} rule ${++n}: ${rule[1]} ${rule[2]}`);
    }
  }
  return rows;
}

function fromTrace(x: XtablesState): string[] {
  const rows: string[] = [];
  for (const t of x.tables) for (const c of t.chains) {
    if (c.policy !== null) rows.push(`${t.name} ${c.name} policy ${c.policy}: ${c.pcnt} ${c.bcnt}`);
    c.rules.forEach((r, i) => rows.push(`${t.name} ${c.name} rule ${i + 1}: ${r.pcnt} ${r.bcnt}`));
  }
  return rows;
}

/**
 * At sampled positions (the last record of its time, with no configuration change right after
 * it at that time: the console replays to the time, which includes such a change), the counters
 * rebuilt from the trace equal the console's listing on every host with tables.
 */
function checkAgainstConsole(text: string, file: string, samples: number): number {
  const run = runScenarioText(text, file);
  const rs = run.world.records;
  const changes = run.world.changes;
  const shell = new HostConsole(text, file);
  const hosts = [...new Set(changes.filter(c => c.change.kind === 'iptables').map(c => c.host))];
  expect(hosts.length).toBeGreaterThan(0);
  const ends: number[] = [];
  for (let i = 0; i < rs.length; i++) {
    if (i + 1 < rs.length && rs[i + 1]!.t === rs[i]!.t) continue;
    if (changes.some(c => c.seq === i + 1 && c.t <= rs[i]!.t)) continue;
    ends.push(i);
  }
  const picks = [...new Set(Array.from({ length: samples }, (_, k) => ends[Math.round((k * (ends.length - 1)) / (samples - 1))]!))];
  let compared = 0;
  for (const p of picks) {
    for (const h of hosts) {
      const x = xtablesAt(rs, changes, h, p);
      const tables = x.tables.map(t => t.name);
      const console = listed(t => shell.exec(h, `iptables -t ${t} -L -v -n -x`, rs[p]!.t).stdout, tables);
      expect(fromTrace(x), `${file} ${h} at record ${p} (t=${rs[p]!.t})`).toEqual(console);
      compared++;
    }
  }
  return compared;
}

describe('xtablesAt: counters at a position equal iptables -L -v -n -x in the console then', () => {
  for (const f of readdirSync('scenarios').filter(x => /^fw-.*\.yaml$/.test(x)).sort()) {
    it(f, () => {
      const path = `scenarios/${f}`;
      expect(checkAgainstConsole(readFileSync(path, 'utf8'), path, 8)).toBeGreaterThan(7);
    }, 120_000);
  }

  it('iptables commands mid-run: -Z zeroes, -I renumbers, -L -Z lists then zeroes, and the counts before stay where they were', () => {
    const path = 'scenarios/fw-rs-input-reject.yaml';
    const text = readFileSync(path, 'utf8').replace(/\ntraffic:[\s\S]*$/, '\n') + [
      'traffic:',
      '  - { id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001 }',
      '  - { id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002 }',
      '  - { exec: "iptables -Z INPUT", host: rs1 }',
      '  - { exec: "iptables -I INPUT -d 172.16.29.6 -p tcp --dport 9001 -j ACCEPT", host: rs1 }',
      '  - { id: c3, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40003 }',
      '  - { id: c4, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40004 }',
      '  - { exec: "iptables -L -n -Z", host: rs1 }',
      '  - { exec: "iptables -A INPUT -p tcp -j LOG", host: rs1 }',
      '  - { id: c5, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40005 }',
      '  - { id: c6, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40006 }',
      '',
    ].join('\n');
    const run = runScenarioText(text, path);
    expect(run.clients.map(c => c.ok)).toEqual([true, false, true, true, true, true]);
    expect(checkAgainstConsole(text, path, 60)).toBeGreaterThan(40);
    // Before the -I, rule 1 was the REJECT; after it, rule 2: each record names the rule of its moment.
    const rs = run.world.records;
    const texts = rs.filter(r => r.host === 'rs1' && ruleHitOf(r)).map(r => ruleHitText(ruleHitOf(r)!));
    expect(texts).toContain('filter INPUT rule 1: -A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with icmp-port-unreachable');
    expect(texts).toContain('filter INPUT rule 1: -A INPUT -d 172.16.29.6/32 -p tcp -m tcp --dport 9001 -j ACCEPT');
    const end = xtablesAt(rs, run.world.changes, 'rs1', Infinity);
    const input = end.tables.find(t => t.name === 'filter')!.chains.find(c => c.name === 'INPUT')!;
    expect(input.rules.map(r => r.text)).toEqual([
      '-A INPUT -d 172.16.29.6/32 -p tcp -m tcp --dport 9001 -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 9001 -j REJECT --reject-with icmp-port-unreachable',
      '-A INPUT -p tcp -j LOG',
    ]);
    expect(input.rules[0]!.pcnt).toBeGreaterThan(0);
    expect(input.rules[1]!.pcnt).toBe(0);
  }, 240_000);
});
