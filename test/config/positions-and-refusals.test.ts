/**
 * Positions of setup errors (redirection targets, continued and folded lines) and the values
 * Linux refuses, answered with the real tool's words.
 */
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import { makeHost, sh } from './helpers';
import type { Diagnostic } from '../../src/config/diag';

const scenario = (setup: string, extra = ''): string =>
  `hosts:\n  h:\n    setup: ${setup}\n${extra}links:\n  - { name: lan, ends: [h:eth0] }\n`;

const diagsOf = (text: string): Diagnostic[] => runScenarioText(text, 's.yaml').diagnostics;

/** The text the diagnostic underlines. */
const underlined = (text: string, d: Diagnostic): string => text.split('\n')[d.line - 1]!.slice(d.col - 1, d.endCol - 1);

describe('positions of setup errors', () => {
  it('echo into a misspelt /proc path points at the path, not the value', () => {
    const text = scenario('|\n      echo 1 > /proc/sys/net/ipv4/ip_froward\n');
    const [d] = diagsOf(text);
    expect(d).toMatchObject({ line: 4, col: 16, found: '/proc/sys/net/ipv4/ip_froward' });
    expect(underlined(text, d!)).toBe('/proc/sys/net/ipv4/ip_froward');
  });

  it('joins a backslash continuation into one command, and places errors on the line they are on', () => {
    const text = scenario('|\n      ip addr add 10.0.0.1/24 \\\n        dev eth9\n      ip link set eth0 up\n');
    const d = diagsOf(text);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ line: 5, found: 'eth9', tool: 'Cannot find device "eth9"' });
    expect(underlined(text, d[0]!)).toBe('eth9');
  });

  it('a continued line that is valid applies as one command', () => {
    const text = scenario('|\n      ip addr add 10.0.0.1/24 \\\n        dev eth0\n');
    const run = runScenarioText(text, 's.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(run.world.hosts.get('h')!.host.devices.get('eth0')!.addrs.map(a => a.addr)).toEqual([0x0a000001]);
  });

  it('a folded block keeps every word at its own line and column, and warns that | was probably meant', () => {
    const text = scenario('>\n      ip link set eth0 up\n      ip addr add 10.0.0.1/24 dev eth0\n');
    const d = diagsOf(text);
    const warn = d.find(x => x.severity === 'warning')!;
    expect(warn).toMatchObject({ line: 3, found: '>' });
    const e = d.find(x => x.severity === 'error')!;
    // "ip link set eth0 up ip addr ...": ip stops at the second "ip", on line 5.
    expect(e.line).toBe(5);
    expect(underlined(text, e)).toBe(e.found);
    for (const x of d) expect(x.endCol).toBeLessThanOrEqual(text.split('\n')[x.line - 1]!.length + 1);
  });

  it('an exec: traffic step written over two lines points at the word on its own line', () => {
    const text = 'hosts:\n  h: {}\nlinks:\n  - { name: lan, ends: [h:eth0] }\ntraffic:\n  - host: h\n    exec: ip link set\n      eth9 up\n';
    const d = diagsOf(text);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ line: 8, found: 'eth9' });
    expect(underlined(text, d[0]!)).toBe('eth9');
  });

  it('a setup list item points at the word inside its quotes', () => {
    const text = scenario('\n      - "ip link set eth9 up"\n');
    const [d] = diagsOf(text);
    expect(underlined(text, d!)).toBe('eth9');
  });
});

describe('values Linux refuses', () => {
  it.each([
    ['net.ipv4.ip_default_ttl=256', 'net.ipv4.ip_default_ttl', 'from 1 to 255'],
    ['net.ipv4.ip_default_ttl=0', 'net.ipv4.ip_default_ttl', 'from 1 to 255'],
    ['net.ipv4.tcp_syn_retries=0', 'net.ipv4.tcp_syn_retries', 'from 1 to 127'],
    ['net.ipv4.tcp_syn_retries=200', 'net.ipv4.tcp_syn_retries', 'from 1 to 127'],
  ])('sysctl -w %s: Invalid argument, value unchanged', (arg, key, range) => {
    const { host, ctx } = makeHost();
    const before = host.sysctl.get(key);
    const r = sh(ctx, `sysctl -w ${arg}`);
    expect(r.exit).toBe(255);
    expect(r.stderr).toBe(`sysctl: setting key "${key}": Invalid argument\n`);
    expect(r.errorAt!.expected).toContain(range);
    expect(host.sysctl.get(key)).toBe(before);
  });

  it('sysctl accepts the bounds themselves', () => {
    const { ctx } = makeHost();
    for (const a of ['net.ipv4.ip_default_ttl=1', 'net.ipv4.ip_default_ttl=255', 'net.ipv4.tcp_syn_retries=127']) expect(sh(ctx, `sysctl -w ${a}`).exit).toBe(0);
  });

  it('echo 256 > /proc/sys/net/ipv4/ip_default_ttl is a write error, as bash reports it', () => {
    const { host, ctx } = makeHost();
    const r = sh(ctx, 'echo 256 > /proc/sys/net/ipv4/ip_default_ttl');
    expect(r.stderr).toBe('bash: echo: write error: Invalid argument\n');
    expect(host.sysctl.get('net.ipv4.ip_default_ttl')).toBe('64');
  });

  it.each(['ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '01:00:5e:00:00:01', '03:00:00:00:00:01'])('ip link set eth0 address %s: Cannot assign requested address', mac => {
    const { host, ctx } = makeHost();
    const before = host.devices.get('eth0')!.mac;
    const r = sh(ctx, `ip link set eth0 address ${mac}`);
    expect(r.exit).toBe(2);
    expect(r.stderr).toBe('RTNETLINK answers: Cannot assign requested address\n');
    expect(r.errorAt!.word).toBe(5);
    expect(host.devices.get('eth0')!.mac).toBe(before);
  });

  it('a locally administered unicast MAC is accepted', () => {
    const { host, ctx } = makeHost();
    expect(sh(ctx, 'ip link set eth0 address 02:00:00:00:00:09').exit).toBe(0);
    expect(host.devices.get('eth0')!.mac).toBe('02:00:00:00:00:09');
  });

  it.each(['abcdefghijklmnop', 'ethernet-über15'])('ip link add %s type dummy: "name" not a valid ifname (16 bytes or more)', name => {
    const { host, ctx } = makeHost();
    const r = sh(ctx, `ip link add ${name} type dummy`);
    expect(r.exit).toBe(255);
    expect(r.stderr).toBe(`Error: argument "${name}" is wrong: "name" not a valid ifname\n`);
    expect(host.devices.has(name)).toBe(false);
  });

  it('a 15-byte name is accepted', () => {
    const { host, ctx } = makeHost();
    expect(sh(ctx, 'ip link add abcdefghijklmno type dummy').exit).toBe(0);
    expect(host.devices.has('abcdefghijklmno')).toBe(true);
  });

  it('ip link add without a name gets the kernel\'s "<kind>%d" name', () => {
    const { host, ctx } = makeHost();
    expect(sh(ctx, 'ip link add type dummy').exit).toBe(0);
    expect(sh(ctx, 'ip link add type dummy').exit).toBe(0);
    expect(host.devices.has('dummy0') && host.devices.has('dummy1')).toBe(true);
  });

  it('ip addr add 0.0.0.0/0 is refused, not added', () => {
    const { host, ctx } = makeHost();
    const r = sh(ctx, 'ip addr add 0.0.0.0/0 dev eth0');
    expect(r.exit).not.toBe(0);
    expect(r.errorAt!.word).toBe(3);
    expect(host.devices.get('eth0')!.addrs).toEqual([]);
  });

  it.each(['add', 'del'])('ip route %s 10.2.0.1/24: Invalid prefix for given prefix length', verb => {
    const { host, ctx } = makeHost();
    sh(ctx, 'ip addr add 10.1.0.1/24 dev eth0');
    sh(ctx, 'ip link set eth0 up');
    const before = host.mainRoutes().length;
    const r = sh(ctx, `ip route ${verb} 10.2.0.1/24 via 10.1.0.254`);
    expect(r.exit).toBe(2);
    expect(r.stderr).toBe('Error: Invalid prefix for given prefix length.\n');
    expect(r.errorAt).toMatchObject({ word: 3, expected: expect.stringContaining('10.2.0.0/24') });
    expect(host.mainRoutes().length).toBe(before);
  });

  it('ip link set eth0 mtu 65536: mtu greater than device maximum; 65535 is accepted', () => {
    const { host, ctx } = makeHost();
    const r = sh(ctx, 'ip link set eth0 mtu 65536');
    expect(r.exit).toBe(2);
    expect(r.stderr).toBe('Error: mtu greater than device maximum.\n');
    expect(host.devices.get('eth0')!.mtu).toBe(1500);
    expect(sh(ctx, 'ip link set eth0 mtu 65535').exit).toBe(0);
  });
});

describe('sysctl -p with keys that do not exist', () => {
  const text = [
    'hosts:',
    '  h:',
    '    files:',
    '      /etc/sysctl.conf: |',
    '        net.ipv4.ip_forward = 1',
    '        net.ipv4.vs.conntrack = 1',
    '        net.ipv4.conf.all.rp_filter = 0',
    '        net.ipv4.ip_default_ttl = 300',
    '    setup: |',
    '      sysctl -p',
    '',
  ].join('\n');

  it('applies the valid keys and reports each refused key at its line in the file', () => {
    const run = runScenarioText(text, 's.yaml');
    const host = run.world.hosts.get('h')!.host;
    expect(host.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(run.diagnostics).toHaveLength(2);
    expect(run.diagnostics[0]).toMatchObject({ line: 6, col: 9, found: 'net.ipv4.vs.conntrack', tool: 'sysctl: cannot stat /proc/sys/net/ipv4/vs/conntrack: No such file or directory' });
    expect(underlined(text, run.diagnostics[0]!)).toBe('net.ipv4.vs.conntrack');
    expect(run.diagnostics[1]).toMatchObject({ line: 8, found: '300', tool: 'sysctl: setting key "net.ipv4.ip_default_ttl": Invalid argument' });
    expect(underlined(text, run.diagnostics[1]!)).toBe('300');
    // The line ran: it is not counted as a line that did not apply.
    expect(run.notApplied).toEqual([]);
  });
});
