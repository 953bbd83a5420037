/**
 * A scenario with twenty typical mistakes: each is reported at file:line:col with what was
 * found, what was expected and (where the real tool refuses it) the tool's own message, and
 * everything else still loads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { formatDiagnostic } from '../../src/config/diag';
import { ip4 } from '../../src/net/addr';

const FILE = 'test/fixtures/twenty-mistakes.yaml';
const run = runScenarioText(readFileSync(FILE, 'utf8'), FILE);
const at = (line: number) => run.diagnostics.find(d => d.line === line);

describe('twenty typical mistakes in one scenario', () => {
  const cases: Array<[string, number, number, string, RegExp, RegExp | null]> = [
    ['a typo in a latency', 7, 56, '1O0us', /a latency such as 50us/, null],
    ['an address with an octet over 255', 13, 19, '203.0.113.300/24', /IPv4 prefix/, /any valid prefix is expected rather than "203\.0\.113\.300\/24"/],
    ['a misspelt sysctl key', 17, 17, 'net.ipv4.ip_fowrard=1', /existing key/, /cannot stat \/proc\/sys\/net\/ipv4\/ip_fowrard/],
    ['an unknown device', 19, 38, 'eth9', /existing device/, /Cannot find device "eth9"/],
    ['an unknown scheduler, with a suggestion', 24, 41, 'wrl', /did you mean 'wrr'/, /Scheduler or persistence engine not found/],
    ['a service address without -t', 25, 18, '172.16.29.6:9001', /an option/, /unexpected argument 172\.16\.29\.6:9001/],
    ['a weight out of range', 27, 65, '70000', /weight 0-65535/, /illegal weight specified/],
    ['a typo in a port', 28, 21, '172.16.29.6:90o1', /port number/, /illegal virtual server address\[:port\] specified/],
    ['a real server for a service that does not exist', 29, 21, '172.16.29.7:9001', /existing virtual service/, /Service not defined/],
    ['port mapping in tunnel mode (accepted, the port is replaced)', 30, 41, '172.16.197.3:8080', /service port 9001, not 8080/, null],
    ['the same real server twice', 31, 41, '172.16.197.3', /not yet in/, /Destination already exists/],
    ['a lower threshold without an upper one', 32, 60, '5', /lower threshold/, /Numerical result out of range/],
    ['echo into a misspelt /proc/sys file', 33, 16, '/proc/sys/net/ipv4/ip_froward', /\/proc\/sys file/, /ip_froward: No such file or directory/],
    ['a misspelt module', 36, 16, 'ipipp', /module/, /Module ipipp not found/],
    ['a sysctl for a device that does not exist', 38, 17, 'net.ipv4.conf.tunl1.rp_filter=0', /existing key/, /conf\/tunl1\/rp_filter/],
    ['a gateway on no connected subnet', 39, 32, '10.9.9.9', /gateway on a connected subnet/, /Nexthop has invalid gateway/],
    ['a misspelt command', 40, 7, 'ipvsdam', /"ipvsadm"\?/, /command not found/],
    ['a background job', 41, 44, '&', /simple command/, null],
    ['a port over 65535 for a listener', 43, 29, '90001', /port from 1 to 65535/, null],
    ['a misspelt host name in traffic', 45, 40, 'clinet', /did you mean 'client'/, null],
  ];
  it('reports exactly these twenty', () => {
    expect(run.diagnostics).toHaveLength(20);
  });
  for (const [what, line, col, found, expected, tool] of cases) {
    it(`${what}: ${FILE}:${line}:${col}`, () => {
      const d = at(line);
      expect(d, formatDiagnostic(d ?? run.diagnostics[0])).toBeDefined();
      expect([d!.line, d!.col, d!.found]).toEqual([line, col, found]);
      expect(d!.expected).toMatch(expected);
      if (tool) expect(d!.tool).toMatch(tool);
      expect(d!.severity).toBe(line === 30 ? 'warning' : 'error');
      expect(formatDiagnostic(d!)).toMatch(new RegExp(`^${FILE.replace(/\./g, '\\.')}:${line}:${col}: `));
    });
  }
  it('loads everything else', () => {
    const director = run.world.hosts.get('director')!;
    expect(director.ipvs.services).toHaveLength(1);
    expect(director.ipvs.services[0].dests.map(d => `${d.addr}:${d.port}`)).toEqual([`${ip4('172.16.197.3')}:9001`]);
    const rs1 = run.world.hosts.get('rs1')!.host;
    expect(rs1.devices.get('tunl0')?.up).toBe(true);
    expect(rs1.isLocal(ip4('172.16.29.6'))).toBe(true);
    expect(run.world.hosts.get('client')!.host.isLocal(ip4('203.0.113.10'))).toBe(true);
    expect(run.notApplied).toHaveLength(16);
  });
});
