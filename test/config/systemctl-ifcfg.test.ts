import { describe, expect, test } from 'vitest';
import { makeHost, sh } from './helpers';
import { ip4 } from '../../src/net/addr';
import { parseIfcfg, ifcfgSettings } from '../../src/config/ifcfg';

const NS = '/etc/sysconfig/network-scripts/';

describe('systemctl restart network (initscripts ifcfg files)', () => {
  const files = {
    [NS + 'ifcfg-eth0']: 'DEVICE=eth0\nTYPE=Ethernet\nBOOTPROTO=static\nONBOOT=yes\nIPADDR=172.16.197.3\nNETMASK=255.255.255.0\nGATEWAY=172.16.197.1\nNAME="System eth0"\nUUID=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03\n',
    [NS + 'ifcfg-tunl0']: '# LVS-TUN: the VIP on tunl0\nDEVICE=tunl0\nIPADDR=172.16.29.6\nNETMASK=255.255.255.255\nONBOOT=yes\n',
    [NS + 'ifcfg-lo']: 'DEVICE=lo\nIPADDR=127.0.0.1\nNETMASK=255.0.0.0\nONBOOT=yes\n',
  };

  test('brings up eth0 and tunl0 with their addresses and the default route', () => {
    const { ctx, host } = makeHost('rs1', ['eth0'], files);
    const r = sh(ctx, 'systemctl restart network');
    expect(r).toEqual({ exit: 0, stdout: '', stderr: '' });
    expect(host.dev('eth0').up).toBe(true);
    expect(host.dev('eth0').addrs).toMatchObject([{ addr: ip4('172.16.197.3'), prefixLen: 24, broadcast: ip4('172.16.197.255') }]);
    expect(host.dev('tunl0').up).toBe(true);
    expect(host.dev('tunl0').addrs).toMatchObject([{ addr: ip4('172.16.29.6'), prefixLen: 32, broadcast: ip4('172.16.29.6') }]);
    expect(host.mainRoutes().find(r => r.len === 0)?.gw).toBe(ip4('172.16.197.1'));
    expect(sh(ctx, 'ip -4 addr show tunl0').stdout).toContain('    inet 172.16.29.6/32 brd 172.16.29.6 scope global tunl0\n');
  });

  test('restarting twice gives the same state; service network restart is the same', () => {
    const { ctx, host } = makeHost('rs1', ['eth0'], files);
    sh(ctx, 'systemctl restart network.service');
    const once = JSON.stringify([...host.devices.values()].map(d => [d.name, d.up, d.addrs]));
    expect(sh(ctx, 'service network restart')).toEqual({ exit: 0, stdout: 'Restarting network (via systemctl):  [  OK  ]\n', stderr: '' });
    expect(JSON.stringify([...host.devices.values()].map(d => [d.name, d.up, d.addrs]))).toBe(once);
  });

  test('ONBOOT=no leaves the device down; GATEWAY from /etc/sysconfig/network', () => {
    const { ctx, host } = makeHost('rs1', ['eth0', 'eth1'], {
      [NS + 'ifcfg-eth0']: 'DEVICE=eth0\nIPADDR=10.0.0.2\nPREFIX=24\n',
      [NS + 'ifcfg-eth1']: "DEVICE=eth1\nONBOOT='no'\nIPADDR=10.1.0.2\nPREFIX=24\n",
      '/etc/sysconfig/network': 'NETWORKING=yes\nGATEWAY=10.0.0.1\n',
    });
    expect(sh(ctx, 'systemctl restart network').exit).toBe(0);
    expect(host.dev('eth1').up).toBe(false);
    expect(host.mainRoutes().find(r => r.len === 0)).toMatchObject({ gw: ip4('10.0.0.1'), dev: 'eth0' });
  });

  test('an alias file ifcfg-lo:0 puts the VIP on lo with label lo:0', () => {
    const { ctx, host } = makeHost('rs1', [], { [NS + 'ifcfg-lo:0']: 'DEVICE=lo:0\nIPADDR=172.16.29.6\nNETMASK=255.255.255.255\nONBOOT=yes\n' });
    expect(sh(ctx, 'systemctl restart network').exit).toBe(0);
    expect(host.dev('lo').addrs.find(a => a.label === 'lo:0')?.addr).toBe(ip4('172.16.29.6'));
  });

  test('no ifcfg files: the unit does not exist', () => {
    const { ctx } = makeHost();
    expect(sh(ctx, 'systemctl restart network')).toMatchObject({ exit: 5, stderr: 'Failed to restart network.service: Unit network.service not found.\n', errorAt: { word: 2 } });
    expect(sh(ctx, 'systemctl restart foo')).toMatchObject({ exit: 5, stderr: 'Failed to restart foo.service: Unit foo.service not found.\n' });
    expect(sh(ctx, 'systemctl frob network')).toMatchObject({ exit: 1, stderr: 'Unknown command verb frob.\n' });
  });

  test('a bad ifcfg value fails the job with file:line:col and leaves the other files applied', () => {
    const { ctx, host } = makeHost('rs1', ['eth0'], {
      [NS + 'ifcfg-eth0']: 'DEVICE=eth0\nIPADDR=172.16.197.300\nPREFIX=24\n',
      [NS + 'ifcfg-tunl0']: 'DEVICE=tunl0\nIPADDR=172.16.29.6\nPREFIX=32\n',
    });
    const r = sh(ctx, 'systemctl restart network');
    expect(r.exit).toBe(1);
    expect(r.stderr).toBe(
      "/etc/sysconfig/network-scripts/ifcfg-eth0:2:8: error: found '172.16.197.300', expected an IPv4 address such as 172.16.29.6\n"
      + 'Job for network.service failed because the control process exited with error code.\n'
      + 'See "systemctl status network.service" and "journalctl -xeu network.service" for details.\n');
    expect(host.dev('tunl0').addrs.length).toBe(1);
  });

  test('a missing device and an unreachable gateway are reported', () => {
    const { ctx } = makeHost('rs1', [], {
      [NS + 'ifcfg-eth3']: 'DEVICE=eth3\nIPADDR=10.0.0.2\nPREFIX=24\n',
      [NS + 'ifcfg-tunl0']: 'DEVICE=tunl0\nIPADDR=172.16.29.6\nPREFIX=32\nGATEWAY=10.9.9.9\n',
    });
    const r = sh(ctx, 'systemctl restart network');
    expect(r.exit).toBe(1);
    expect(r.stderr).toContain('Device eth3 does not seem to be present, delaying initialization.');
    expect(r.stderr).toContain('Error: Nexthop has invalid gateway.');
  });

  test('systemctl restart systemd-sysctl applies sysctl.d then sysctl.conf', () => {
    const { ctx, host } = makeHost('rs1', [], {
      '/etc/sysctl.d/50-a.conf': 'net.ipv4.conf.all.rp_filter = 2\n', '/etc/sysctl.conf': 'net.ipv4.conf.all.rp_filter = 0\nnet.ipv4.ip_forward = 1\n',
    });
    expect(sh(ctx, 'systemctl restart systemd-sysctl')).toEqual({ exit: 0, stdout: '', stderr: '' });
    expect(host.sysctl.get('net.ipv4.conf.all.rp_filter')).toBe('0');
    expect(host.sysctl.get('net.ipv4.ip_forward')).toBe('1');
  });
});

describe('parseIfcfg', () => {
  test('quotes, comments and export are read as bash would', () => {
    const { vars, diagnostics } = parseIfcfg('# c\nexport DEVICE="eth0"\nNAME=\'System eth0\'  # trailing\nMTU=1400\n', 'ifcfg-eth0');
    expect(diagnostics).toEqual([]);
    expect([...vars].map(([k, v]) => [k, v.value, v.line, v.col, v.valueCol])).toEqual([
      ['DEVICE', 'eth0', 2, 8, 15], ['NAME', 'System eth0', 3, 1, 6], ['MTU', '1400', 4, 1, 5],
    ]);
  });

  test('spaces around =, unterminated quotes, expansions and trailing words are errors with columns', () => {
    const { diagnostics } = parseIfcfg('IPADDR = 1.2.3.4\nNAME="abc\nIPADDR=$VIP\nNAME=System eth0\n1X=2\n', 'f');
    expect(diagnostics.map(d => [d.line, d.col, d.found, d.expected])).toEqual([
      [1, 7, '=', "'=' right after IPADDR (no spaces around '=' in a shell assignment)"],
      [2, 6, '"abc', 'a closing double quote (")'],
      [3, 8, '$', 'a literal value (variable and command expansion are not modelled)'],
      [4, 13, 'eth0', 'the end of the line (quote the value of NAME if it has spaces)'],
      [5, 1, '1X=2', 'an assignment NAME=value (such as IPADDR=172.16.29.6)'],
    ]);
  });

  test('settings: classful default prefix, misspelt keys warn with did-you-mean, bad values error', () => {
    const { vars } = parseIfcfg('DEVICE=eth0\nIPADDR=172.16.29.6\nONBOT=yes\nONBOOT=maybe\n', 'ifcfg-eth0');
    const { settings, diagnostics } = ifcfgSettings('ifcfg-eth0', vars);
    expect(settings).toBeNull();
    expect(diagnostics.map(d => [d.severity, d.line, d.col, d.expected])).toEqual([
      ['warning', 3, 1, 'a variable ifup reads: ONBOOT? (ONBOT is ignored)'],
      ['error', 4, 8, 'yes or no'],
    ]);
    const ok = ifcfgSettings('ifcfg-eth0', parseIfcfg('IPADDR=172.16.29.6\n', 'ifcfg-eth0').vars);
    expect(ok.settings).toMatchObject({ device: 'eth0', onboot: true, addrs: [{ prefixLen: 16 }] });
  });
});
