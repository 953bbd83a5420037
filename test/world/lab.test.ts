/**
 * The misconfiguration lab: each exercise is a broken configuration with the symptom a user
 * would report and the expectations a working one meets. The doctor must name the cause, the
 * run must show the symptom (an expectation fails), and the textbook fix must make every
 * expectation pass with no error left for the doctor.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { doctorScenarioText } from '../../src/world/doctor';
import { runScenarioText } from '../../src/world/world';
import { checkExpectations } from '../../src/world/expect';
import { parseScenario } from '../../src/config/scenario';

/** Each exercise: the cause the doctor must name (code@host) and the fix a learner would make. */
const EXERCISES: Record<string, { cause: string; fix: Array<[string | RegExp, string]> }> = {
  'rp-filter-all': { cause: 'rp_filter_strict_on_decap@rs1', fix: [[/net\.ipv4\.conf\.all\.rp_filter = 1/, 'net.ipv4.conf.all.rp_filter = 0']] },
  'no-ipip': { cause: 'ipip_unavailable@rs1', fix: [['      ip addr add 172.16.29.6/32 dev lo\n', '      modprobe ipip\n      ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up\n']] },
  'tunl0-down': { cause: 'tunl0_down@rs1', fix: [['ip addr add 172.16.29.6/32 dev tunl0', 'ip addr add 172.16.29.6/32 dev tunl0\n      ip link set tunl0 up']] },
  'vip-missing': { cause: 'vip_missing_on_rs@rs1', fix: [['      ip link set tunl0 up\n', '      ip addr add 172.16.29.6/32 dev tunl0\n      ip link set tunl0 up\n']] },
  'vip-netmask': { cause: 'vip_not_host_route@rs1', fix: [['netmask 255.255.255.0 up', 'netmask 255.255.255.255 up']] },
  'arp-vip-lan': {
    cause: 'rs_answers_arp_for_vip@rs1',
    fix: [[/net\.ipv4\.conf\.all\.arp_ignore = 0/, 'net.ipv4.conf.all.arp_ignore = 1'], [/net\.ipv4\.conf\.all\.arp_announce = 0/, 'net.ipv4.conf.all.arp_announce = 2']],
  },
  'rs-gateway-director': { cause: 'rs_gateway_is_director@rs1', fix: [['ip route add default via 172.16.69.15', 'ip route add default via 172.16.69.1']] },
  'director-rp-filter': { cause: 'director_rp_filter_asymmetric@director', fix: [['sysctl -w net.ipv4.conf.all.rp_filter=1', 'sysctl -w net.ipv4.conf.all.rp_filter=2']] },
  'antispoof-router': { cause: 'reply_dropped_by_antispoof@router', fix: [['sysctl -w net.ipv4.conf.all.rp_filter=1', 'sysctl -w net.ipv4.conf.all.rp_filter=2']] },
  'port-mapping-tun': { cause: 'no_listener_on_vip@rs1', fix: [['-r 172.16.197.3:8080 -i', '-r 172.16.197.3:9001 -i'], ['port: 8080', 'port: 9001']] },
  'gateway-missing': { cause: 'reply_path_broken@rs1', fix: [['via 172.16.197.254', 'via 172.16.197.1']] },
  'no-listener': { cause: 'no_listener_on_vip@rs1', fix: [[', addr: 172.16.197.3 }', ' }']] },
  'ipip-filtered': { cause: 'ipip_blocked@router', fix: [['      iptables -A FORWARD -p 4 -j DROP\n', '']] },
  'forgotten-i': { cause: 'fwd_method_needs_l2@director', fix: [[/-r 172\.16\.197\.3:9001$/m, '-r 172.16.197.3:9001 -i']] },
  'nat-across-subnets': { cause: 'nat_reply_bypasses_director@rs1', fix: [['-r 172.16.197.3:9001 -m', '-r 172.16.197.3:9001 -i'], ['-r 192.168.134.5:9001 -m', '-r 192.168.134.5:9001 -i']] },
};

function apply(text: string, edits: Array<[string | RegExp, string]>): string {
  for (const [a, b] of edits) {
    const n = text.replace(a, b);
    if (n === text) throw new Error(`fix not applied: ${a}`);
    text = n;
  }
  return text;
}

const FILES = readdirSync('scenarios/lab').filter(f => f.endsWith('.yaml')).map(f => f.replace(/\.yaml$/, ''));

describe('the misconfiguration lab', () => {
  it('every exercise in scenarios/lab has a known cause and fix here, and the other way round', () => {
    expect(FILES.sort()).toEqual(Object.keys(EXERCISES).sort());
  });

  for (const name of FILES) {
    const ex = EXERCISES[name];
    if (!ex) continue;
    const file = `scenarios/lab/${name}.yaml`;
    const text = readFileSync(file, 'utf8');
    it(`${name}: the doctor names ${ex.cause}, the run shows the symptom, the fix passes`, () => {
      const { scenario, diagnostics } = parseScenario(text, file);
      expect(diagnostics.filter(d => d.severity === 'error')).toEqual([]);
      expect(scenario.lab?.symptom.length).toBeGreaterThan(40);
      expect(scenario.traffic.some(t => t.kind === 'connect' && t.expect !== null)).toBe(true);

      const before = doctorScenarioText(text, file).findings.filter(f => f.severity === 'error').map(f => `${f.code}@${f.host}`);
      expect(before).toContain(ex.cause);
      const broken = checkExpectations(runScenarioText(text, file));
      expect(broken.some(r => !r.pass), 'the broken configuration meets every expectation').toBe(true);

      const fixed = apply(text, ex.fix);
      const after = doctorScenarioText(fixed, file).findings.filter(f => f.severity === 'error');
      expect(after.map(f => `${f.code}@${f.host}`)).toEqual([]);
      const results = checkExpectations(runScenarioText(fixed, file));
      expect(results.filter(r => !r.pass).map(r => `${r.id}: ${r.got}`)).toEqual([]);
    });
  }
});

describe('expect: in a scenario', () => {
  const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');
  it('reads ok, fail, {rs}, {error} and refuses anything else with a position', () => {
    const t = REF.replace('src: 203.0.113.10:40001 }', 'src: 203.0.113.10:40001, expect: { rs: rs2 } }')
      .replace('src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, expect: { error: ETIMEOUT } }');
    const { diagnostics } = parseScenario(t, 'x.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.found).toBe('ETIMEOUT');
    expect(diagnostics[0]!.expected).toContain('ETIMEDOUT');
    expect(t.split('\n')[diagnostics[0]!.line - 1]!.slice(diagnostics[0]!.col - 1)).toMatch(/^ETIMEOUT/);
  });

  it('passes and fails as the run does, naming what happened', () => {
    const t = REF.replace('src: 203.0.113.10:40001 }', 'src: 203.0.113.10:40001, expect: { rs: rs2 } }')
      .replace('src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, expect: { rs: rs2 } }');
    const r = checkExpectations(runScenarioText(t, 'x.yaml'));
    expect(r.map(x => [x.id, x.pass, x.got])).toEqual([['c1', true, 'ok, answered by rs2'], ['c2', false, 'ok, answered by rs1']]);
  });

  it('an expected failure with its errno passes', () => {
    const t = readFileSync('scenarios/misconfig-no-listener.yaml', 'utf8')
      .replace('src: 203.0.113.10:40002 }', 'src: 203.0.113.10:40002, expect: { error: ECONNREFUSED } }');
    const r = checkExpectations(runScenarioText(t, 'x.yaml'));
    expect(r).toHaveLength(1);
    expect(r[0]!.pass).toBe(true);
  });
});
