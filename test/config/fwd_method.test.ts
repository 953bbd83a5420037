/** Switching a scenario between TUN, DR and NAT rewrites only the ipvsadm destination lines. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scenarioFwdMethod, withFwdMethod } from '../../src/config/fwd_method';
import { runScenarioText } from '../../src/world/world';

const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

describe('withFwdMethod', () => {
  it('reads the reference scenario as tunnel, and a line without a flag as ipvsadm\'s default -g', () => {
    expect(scenarioFwdMethod(REF)).toBe('tunnel');
    expect(scenarioFwdMethod('ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -w 2')).toBe('route');
    expect(scenarioFwdMethod('ipvsadm -A -t 10.0.0.1:80 -s rr')).toBeNull();
    expect(scenarioFwdMethod('ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1 -i\nipvsadm -a -t 10.0.0.1:80 -r 10.0.1.2 -m')).toBe('mixed');
  });

  it('rewrites each -a line of the reference scenario to -g or -m and nothing else', () => {
    for (const [method, flag] of [['route', '-g'], ['masq', '-m']] as const) {
      const r = withFwdMethod(REF, method);
      expect(r.changed).toBe(2);
      expect(scenarioFwdMethod(r.text)).toBe(method);
      const before = REF.split('\n');
      const after = r.text.split('\n');
      expect(after.length).toBe(before.length);
      const diff = after.map((l, i) => [before[i], l]).filter(([a, b]) => a !== b);
      expect(diff).toEqual([
        ['      ipvsadm -a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i', `      ipvsadm -a -t 172.16.29.6:9001 -r 172.16.197.3:9001 ${flag}`],
        ['      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i', `      ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 ${flag}`],
      ]);
      expect(withFwdMethod(r.text, 'tunnel').text).toBe(REF);
    }
  });

  it('adds the flag after the real server when the line had none, and keeps long options and comments', () => {
    expect(withFwdMethod('ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -w 2', 'masq').text).toBe('ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 2');
    expect(withFwdMethod('ipvsadm --add-server -t 10.0.0.1:80 --real-server 10.0.1.1 --gatewaying # dr', 'tunnel').text)
      .toBe('ipvsadm --add-server -t 10.0.0.1:80 --real-server 10.0.1.1 -i # dr');
    expect(withFwdMethod('ipvsadm -A -t 10.0.0.1:80 -s rr', 'masq').changed).toBe(0);
  });

  it('gives a scenario that runs as the kernel would with that method: DR loops to EHOSTUNREACH, NAT times out', () => {
    const dr = runScenarioText(withFwdMethod(REF, 'route').text, 'ref-dr.yaml');
    expect(dr.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(dr.clients.map(c => c.error)).toEqual(['EHOSTUNREACH', 'EHOSTUNREACH']);
    const nat = runScenarioText(withFwdMethod(REF, 'masq').text, 'ref-nat.yaml', { untilNs: 5_000_000_000 });
    expect(nat.world.records.some(r => r.reason?.code === 'tcp_no_socket')).toBe(true);
  });
});
