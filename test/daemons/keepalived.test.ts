import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runScenarioText, type Run } from '../../src/world/world';
import { procs } from '../../src/kernel/proc';
import { explainDrop, rightlyIgnored } from '../../src/trace/explain';
import { formatIp4 } from '../../src/net/addr';
import { KA_STARTUP_NS } from '../../src/daemons/keepalived';
import { BOOTSTRAP_DELAY_NS } from '../../src/daemons/keepalived/healthcheck';

const SC = 'scenarios/keepalived-rs-down.yaml';
const BASE = readFileSync(SC, 'utf8');
const REF = readFileSync('scenarios/tun-different-subnets.yaml', 'utf8');

/** The shipped scenario with its traffic replaced, and optional edits of the rest. */
function scenario(traffic: string, edit: (t: string) => string = t => t, until = '25s'): string {
  const t = edit(BASE);
  return t.slice(0, t.indexOf('until:')) + `until: ${until}\ntraffic:\n${traffic}`;
}

const run = (text: string, seed?: number): Run => runScenarioText(text, SC, { seed });

/** keepalived's log lines on a host: [seconds, message]. */
function kaLog(r: Run, host = 'director'): Array<[number, string]> {
  return procs(r.world.hosts.get(host)!.host).journal.filter(e => e.ident.startsWith('Keepalived_')).map(e => [e.t / 1e9, e.msg]);
}
const msgs = (r: Run, host = 'director') => kaLog(r, host).map(x => x[1]).filter(m => !m.startsWith('Activating') && m !== 'Initializing ipvs');
/** The output of the i-th `ipvsadm -Ln` exec step. */
const execOut = (r: Run, i: number) => r.execs.filter(e => e.command === 'ipvsadm -Ln')[i].result.stdout;
const dests = (r: Run) => r.world.hosts.get('director')!.ipvs.services.flatMap(s => s.dests.map(d => `${formatIp4(d.addr)}:${d.port} w${d.weight}`)).sort();

/** When the director sent each check SYN to addr:port (trace records at OUTPUT). */
function checkSyns(r: Run, addr: string, port = 9001): number[] {
  return r.world.records.filter(x => x.host === 'director' && x.point === 'OUTPUT' && x.packet.pkt.proto === 'ipv4'
    && formatIp4(x.packet.pkt.dst) === addr && x.packet.pkt.payload.proto === 'tcp' && x.packet.pkt.payload.dport === port
    && x.packet.pkt.payload.flags === 0x02).map(x => x.t / 1e9);
}

describe('keepalived programs IPVS through the control API ipvsadm uses', () => {
  const IPVSADM = REF.replace('ipvsadm -A -t 172.16.29.6:9001 -s rr', 'ipvsadm -A -t 172.16.29.6:9001 -s wrr -p 30')
    .replace('-r 172.16.197.3:9001 -i', '-r 172.16.197.3:9001 -i -w 3')
    .replace(/traffic:[\s\S]*$/, '');
  const KA = BASE.replace('lb_algo rr', 'lb_algo wrr\n            persistence_timeout 30')
    .replace('real_server 172.16.197.3 9001 {', 'real_server 172.16.197.3 9001 {\n                weight 3')
    .replace(/until:[\s\S]*$/, '');
  const clients = Array.from({ length: 8 }, (_, i) => `  - { id: c${i}, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:${41000 + i}, at: ${2 + i * 0.05}s }`).join('\n');
  const traffic = `traffic:\n  - { exec: ipvsadm -Ln, host: director, at: 1s }\n${clients}\n`;
  // Each client from its own address: wrr with persistence is decided per client address.
  const perClient = (t: string) => t.replace('ip addr add 203.0.113.10/24 dev eth0', Array.from({ length: 8 }, (_, i) => `ip addr add 203.0.113.${20 + i}/24 dev eth0`).join('\n      ') + '\n      ip addr add 203.0.113.10/24 dev eth0')
    .replace(/src: 203\.0\.113\.10:410(\d\d)/g, (_m, n) => `src: 203.0.113.${20 + Number(n)}:410${n}`);

  test('the same pool as ipvsadm lines and as keepalived.conf: identical ipvsadm -Ln and identical scheduling', () => {
    const a = runScenarioText(perClient(IPVSADM + 'until: 4s\n' + traffic), 'a.yaml');
    const b = runScenarioText(perClient(KA + 'until: 4s\n' + traffic), 'b.yaml');
    expect(a.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(b.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(execOut(b, 0)).toBe(execOut(a, 0));
    expect(execOut(b, 0)).toContain('TCP  172.16.29.6:9001 wrr persistent 30');
    const servers = (r: Run) => r.clients.map(c => c.server);
    expect(servers(a).every(s => s === 'RS1' || s === 'RS2')).toBe(true);
    expect(servers(b)).toEqual(servers(a));
    expect(new Set(servers(a)).size).toBe(2);
  });
});

describe('TCP_CHECK (check_tcp.c tcp_epilog) and the pool (ipwrapper.c perform_svr_state)', () => {
  test('starts with every real server in the table, gains quorum, checks 1 s + warmup after start', () => {
    const r = run(scenario('  - { exec: ipvsadm -Ln, host: director, at: 300ms }\n', undefined, '6s'));
    expect(execOut(r, 0)).toContain('172.16.197.3:9001            Tunnel  1');
    expect(execOut(r, 0)).toContain('192.168.134.5:9001           Tunnel  1');
    const log = kaLog(r);
    expect(log.find(l => l[1].startsWith('Gained quorum'))).toEqual([KA_STARTUP_NS / 1e9, 'Gained quorum 1+0=1 <= 2 for VS [172.16.29.6]:tcp:9001']);
    for (const rip of ['172.16.197.3', '192.168.134.5']) {
      const first = checkSyns(r, rip)[0];
      // BOOTSTRAP_DELAY + random warmup of up to delay_loop (3 s), from the seeded stream.
      expect(first).toBeGreaterThanOrEqual((KA_STARTUP_NS + BOOTSTRAP_DELAY_NS) / 1e9);
      expect(first).toBeLessThanOrEqual((KA_STARTUP_NS + BOOTSTRAP_DELAY_NS) / 1e9 + 3);
      expect(log.some(l => l[1] === `TCP connection to [${rip}]:tcp:9001 success.`)).toBe(true);
    }
  });

  test('a check that fails on its first run removes the server at once, without retries', () => {
    const r = run(scenario('  - { exec: systemctl stop rs2d, host: rs2, at: 0s }\n', undefined, '5s'));
    const syns = checkSyns(r, '192.168.134.5');
    const removed = kaLog(r).find(l => l[1].startsWith('Removing service'))!;
    expect(removed[1]).toBe('Removing service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001');
    expect(removed[0] - syns[0]).toBeLessThan(0.01);
    expect(msgs(r)).toEqual(expect.arrayContaining(['TCP_CHECK on service [192.168.134.5]:tcp:9001 failed.']));
    expect(dests(r)).toEqual(['172.16.197.3:9001 w1']);
  });

  test('a server that was up leaves after retry x delay_before_retry, is re-checked at delay_loop / delay_before_retry, and returns', () => {
    const r = run(BASE);
    const log = msgs(r);
    expect(log.filter(m => m.includes('192.168.134.5'))).toEqual([
      'TCP connection to [192.168.134.5]:tcp:9001 success.',
      'TCP_CHECK on service [192.168.134.5]:tcp:9001 failed after 1 retries.',
      'Removing service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
      'TCP connection to [192.168.134.5]:tcp:9001 success.',
      'Adding service [192.168.134.5]:tcp:9001 to VS [172.16.29.6]:tcp:9001',
    ]);
    // The check SYNs: every delay_loop (3 s) while up; after the first failure delay_before_retry
    // (1 s), then delay_loop and delay_before_retry alternate while down (retry 1).
    const syns = checkSyns(r, '192.168.134.5');
    const gaps = syns.slice(1).map((t, i) => Math.round((t - syns[i]) * 10) / 10);
    const stopAt = 4, startAt = 14;
    const firstFail = syns.findIndex(t => t > stopAt);
    const back = syns.findIndex(t => t > startAt);
    expect(gaps.slice(0, firstFail - 1).every(g => g === 3)).toBe(true);
    expect(gaps.slice(firstFail, back)).toEqual(Array.from({ length: back - firstFail }, (_, i) => (i % 2 === 0 ? 1 : 3)));
    const removedAt = kaLog(r).find(l => l[1].startsWith('Removing'))![0];
    expect(removedAt - syns[firstFail + 1]).toBeLessThan(0.01);
    // -Ln during the outage and after.
    expect(execOut(r, 1)).not.toContain('192.168.134.5');
    expect(execOut(r, 2)).toContain('192.168.134.5:9001           Tunnel  1');
    expect(r.clients.filter(c => c.startedAt > 9e9 && c.startedAt < 11e9).map(c => c.server)).toEqual(['RS1', 'RS1']);
    expect(r.clients.slice(-2).map(c => c.server).sort()).toEqual(['RS1', 'RS2']);
  });

  test('inhibit_on_failure sets weight 0 instead of removing, and restores the weight', () => {
    const r = run(scenario('  - { exec: systemctl stop rs2d, host: rs2, at: 4s }\n  - { exec: ipvsadm -Ln, host: director, at: 10s }\n  - { exec: systemctl start rs2d, host: rs2, at: 11s }\n',
      t => t.replace('real_server 192.168.134.5 9001 {', 'real_server 192.168.134.5 9001 {\n                weight 2\n                inhibit_on_failure'), '18s'));
    expect(execOut(r, 0)).toContain('192.168.134.5:9001           Tunnel  0');
    expect(msgs(r).filter(m => /abl/.test(m))).toEqual([
      'Disabling service [192.168.134.5]:tcp:9001 of VS [172.16.29.6]:tcp:9001',
      'Enabling service [192.168.134.5]:tcp:9001 of VS [172.16.29.6]:tcp:9001',
    ]);
    expect(dests(r)).toEqual(['172.16.197.3:9001 w1', '192.168.134.5:9001 w2']);
  });

  test('quorum lost: the sorry server replaces the pool; quorum regained: the pool comes back', () => {
    const r = run(scenario(
      '  - { exec: systemctl stop rs2d, host: rs2, at: 4s }\n  - { exec: ipvsadm -Ln, host: director, at: 10s }\n  - { exec: systemctl start rs2d, host: rs2, at: 11s }\n  - { exec: ipvsadm -Ln, host: director, at: 17s }\n',
      t => t.replace('protocol TCP', 'protocol TCP\n            quorum 2\n            sorry_server 172.16.69.1 9001'), '18s'));
    const log = msgs(r);
    expect(log).toEqual(expect.arrayContaining([
      'Lost quorum 2-0=2 > 1 for VS [172.16.29.6]:tcp:9001',
      'Adding sorry server [172.16.69.1]:tcp:9001 to VS [172.16.29.6]:tcp:9001',
      'Removing alive servers from the pool for VS [172.16.29.6]:tcp:9001',
      'Gained quorum 2+0=2 <= 2 for VS [172.16.29.6]:tcp:9001',
      'Removing sorry server [172.16.69.1]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
      'Adding alive servers to the pool for VS [172.16.29.6]:tcp:9001',
    ]));
    const during = execOut(r, 0);
    expect(during).toContain('172.16.69.1:9001');
    expect(during).not.toContain('172.16.197.3');
    expect(execOut(r, 1)).not.toContain('172.16.69.1');
    expect(execOut(r, 1)).toContain('172.16.197.3');
  });

  test('health check green, traffic dead: a real server without the VIP passes its check while VIP traffic to it fails', () => {
    const noVip = (t: string) => {
      const i = t.indexOf('  rs2:');
      return t.slice(0, i) + t.slice(i).replace('ifconfig tunl0 172.16.29.6 netmask 255.255.255.255 up', 'ifconfig tunl0 up');
    };
    const r = run(scenario('  - { id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001, at: 5s }\n  - { id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002, at: 5.1s }\n', noVip, '12s'));
    expect(msgs(r)).toContain('TCP connection to [192.168.134.5]:tcp:9001 success.');
    expect(msgs(r).some(m => m.startsWith('TCP_CHECK'))).toBe(false);
    expect(dests(r)).toEqual(['172.16.197.3:9001 w1', '192.168.134.5:9001 w1']);
    const byServer = r.clients.map(c => [c.server, c.ok, c.error]);
    expect(byServer).toContainEqual(['RS1', true, null]);
    expect(byServer.filter(c => c[1] !== true)).toHaveLength(1);
    // The check reaches the RIP as plain TCP from the DIP; the client's packets come in IP-in-IP.
    const atRs2 = r.world.records.filter(x => x.host === 'rs2' && x.point === 'eth0' && x.verdict === 'rx' && x.packet.pkt.proto === 'ipv4' && formatIp4(x.packet.pkt.src) === '172.16.69.15');
    expect(atRs2.some(x => x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 6)).toBe(true);
    expect(atRs2.some(x => x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 4)).toBe(true);
  });
});

describe('HTTP_GET (check_http.c) against an http server on the real server', () => {
  const http = (t: string) => t
    .replace(/TCP_CHECK \{\n\s+connect_port 9001/g, 'HTTP_GET {\n                    url {\n                        path /health\n                        status_code 200\n                    }\n                    connect_port 80')
    .replace('      - { proto: tcp, port: 9001, name: RS1 }', '      - { proto: tcp, port: 9001, name: RS1 }\n      - { proto: tcp, port: 80, name: WEB1, kind: http }')
    .replace('      - { proto: tcp, port: 9001, name: RS2, unit: rs2d }', '      - { proto: tcp, port: 9001, name: RS2, unit: rs2d }\n      - { proto: tcp, port: 80, name: WEB2, kind: http, status: 503, unit: httpd }');

  // timeout_epilog marks the checker as run before epilog() logs, so even a first failure reads "after 1 retries".
  test('a 200 passes, a 503 is a failure that takes the server out on its first run', () => {
    const r = run(scenario('  - { exec: ipvsadm -Ln, host: director, at: 6s }\n', http, '6s'));
    expect(msgs(r)).toEqual(expect.arrayContaining([
      'Remote Web server [172.16.197.3]:tcp:80 succeed on service.',
      'HTTP_CHECK on service [192.168.134.5]:tcp:80 failed after 1 retries.',
      'Removing service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
    ]));
    expect(dests(r)).toEqual(['172.16.197.3:9001 w1']);
    // The request keepalived sends: GET path HTTP/1.0 with its User-Agent and Host.
    const req = r.world.records.find(x => x.host === 'rs1' && x.point === 'eth0' && x.verdict === 'rx' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.payload.proto === 'tcp' && x.packet.pkt.payload.data.length > 0);
    const p = req!.packet.pkt;
    expect(p.proto === 'ipv4' && p.payload.proto === 'tcp' && new TextDecoder().decode(p.payload.data)).toBe('GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 172.16.197.3:80\r\n\r\n');
  });

  // check_http.c epilog: "failed after N retries" needs has_run and retry; N is retry_it - 1, which is retry here.
  test('with retry 0 the failure reads "failed." with no retry count', () => {
    const r = run(scenario('', t => http(t).replace(/retry 1\n/g, 'retry 0\n'), '6s'));
    expect(msgs(r)).toContain('HTTP_CHECK on service [192.168.134.5]:tcp:80 failed.');
    expect(msgs(r).some(m => m.includes('retries'))).toBe(false);
  });

  test('a web server that stops: failed after retries, removed; back after it answers again', () => {
    const up = (t: string) => http(t).replace('kind: http, status: 503, unit: httpd', 'kind: http, unit: httpd');
    const r = run(scenario('  - { exec: systemctl stop httpd, host: rs2, at: 5s }\n  - { exec: systemctl start httpd, host: rs2, at: 12s }\n', up, '22s'));
    expect(msgs(r).filter(m => m.includes('192.168.134.5'))).toEqual([
      'Remote Web server [192.168.134.5]:tcp:80 succeed on service.',
      'HTTP_CHECK on service [192.168.134.5]:tcp:80 failed after 1 retries.',
      'Removing service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
      'Remote Web server [192.168.134.5]:tcp:80 succeed on service.',
      'Adding service [192.168.134.5]:tcp:9001 to VS [172.16.29.6]:tcp:9001',
    ]);
  });
});

describe('keepalived as processes on the host', () => {
  test('pkill -9 keepalived is a crash: the table it made stays; systemctl stop takes it out', () => {
    const killed = run(scenario('  - { exec: pkill -9 keepalived, host: director, at: 5s }\n  - { exec: systemctl stop rs2d, host: rs2, at: 6s }\n', undefined, '12s'));
    expect(procs(killed.world.hosts.get('director')!.host).byName('keepalived')).toEqual([]);
    expect(dests(killed)).toEqual(['172.16.197.3:9001 w1', '192.168.134.5:9001 w1']);
    expect(msgs(killed).some(m => m.startsWith('TCP_CHECK'))).toBe(false);

    const stopped = run(scenario('  - { exec: systemctl stop keepalived, host: director, at: 5s }\n  - { exec: systemctl is-active keepalived, host: director, at: 6s }\n', undefined, '7s'));
    expect(stopped.world.hosts.get('director')!.ipvs.services).toEqual([]);
    expect(msgs(stopped).slice(-3)).toEqual([
      'Stopping',
      'Shutting down service [172.16.197.3]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
      'Shutting down service [192.168.134.5]:tcp:9001 from VS [172.16.29.6]:tcp:9001',
    ]);
    expect(stopped.execs[1].result.stdout).toBe('inactive\n');
  });

  test('keepalived -t prints keepalived\'s configuration errors; a config using what lvsim does not model is refused', () => {
    const bad = scenario('  - { exec: keepalived -t -f /etc/keepalived/keepalived.conf, host: director, at: 1s }\n', t => t.replace('lb_kind TUN', 'lb_kind TUNNEL'), '2s');
    const r = run(bad);
    expect(r.execs[0].result.exit).toBe(2);
    expect(r.execs[0].result.stderr).toBe('(Line 7) PARSER : unknown [TUNNEL] routing method for virtual server.\n');
    const misc = run(scenario('', t => t.replace('                TCP_CHECK {\n                    connect_port 9001', '                MISC_CHECK {\n                    misc_path /bin/true\n                }\n                TCP_CHECK {\n                    connect_port 9001'), '1s'));
    // At its line of the keepalived.conf in the scenario's files:, not at the systemctl line.
    const d = misc.diagnostics.find(x => x.severity === 'error' && x.found === 'MISC_CHECK')!;
    expect(d.tool).toBe('lvsim: MISC_CHECK: MISC_CHECK (scripts are not run) is not modelled; keepalived not started');
    const text = scenario('', t => t.replace('                TCP_CHECK {\n                    connect_port 9001', '                MISC_CHECK {\n                    misc_path /bin/true\n                }\n                TCP_CHECK {\n                    connect_port 9001'), '1s');
    expect(text.split('\n')[d.line - 1].trim()).toBe('MISC_CHECK {');
    expect(misc.world.hosts.get('director')!.ipvs.services).toEqual([]);
  });

  test("keepalived's configuration mistakes are warnings at their line of the scenario, in keepalived's words; keepalived runs with its defaults", () => {
    const text = scenario('', t => t.replace('lb_kind TUN', 'lb_kin TUN'), '1s');
    const r = run(text);
    const d = r.diagnostics.find(x => x.found === 'lb_kin')!;
    expect([d.severity, d.tool, d.expected]).toEqual(['warning', "(Line 7) Unknown keyword 'lb_kin'", "a keyword of this block (did you mean 'lb_kind'?)"]);
    expect(text.split('\n')[d.line - 1].slice(d.col - 1, d.endCol - 1)).toBe('lb_kin');
    // keepalived's default forwarding method
    expect(r.world.hosts.get('director')!.ipvs.services[0]?.dests[0]?.fwd).toBe('masq');
  });

  test('a notify script is refused when keepalived starts, with its line: the failover it would run is not modelled', () => {
    const r = run(scenario('', t => t.replace('            lb_kind TUN\n', '            lb_kind TUN\n            quorum_down "/bin/false"\n'), '1s'));
    const d = r.diagnostics.find(x => x.severity === 'error' && x.found === 'quorum_down')!;
    expect(d.tool).toBe('lvsim: quorum_down: a script (scripts are not run) is not modelled; keepalived not started');
    expect(r.world.hosts.get('director')!.ipvs.services).toEqual([]);
  });

  test('the same seed gives the same checks, another seed another warmup', () => {
    const a = kaLog(run(BASE, 7)), b = kaLog(run(BASE, 7)), c = kaLog(run(BASE, 8));
    expect(b).toEqual(a);
    expect(c.map(x => x[1]).filter(m => m.includes('success')).length).toBeGreaterThan(0);
    expect(c).not.toEqual(a);
  });
});

describe('VRRP failover and the connections through the old master (scenarios/keepalived-failover.yaml)', () => {
  const FO = readFileSync('scenarios/keepalived-failover.yaml', 'utf8');
  const runFo = (text: string) => runScenarioText(text, 'scenarios/keepalived-failover.yaml');
  const held = (r: Run) => r.clients.find(c => c.id === 'held')!;

  test('the master crashes: the backup takes the VIP within 3 x advert_int + skew, the router follows, the held connection is reset', () => {
    const r = runFo(FO);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    const log2 = kaLog(r, 'director2');
    const master = log2.find(l => l[1] === '(VI_1) Entering MASTER STATE')![0];
    // The master's last advert went out just before the crash at 10 s: 3 x 1 s + (256 - 100) / 256 s later.
    const lastAdvert = r.world.records.filter(x => x.host === 'director' && x.verdict === 'tx' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 112).at(-1)!.t / 1e9;
    expect(lastAdvert).toBeLessThan(10);
    expect(master - lastAdvert).toBeCloseTo(3 + 156 / 256, 2);
    expect(r.execs.find(e => e.host === 'director2' && e.command.startsWith('ip -br'))!.result.stdout).toContain('172.16.29.6/32');
    const d2mac = r.world.hosts.get('director2')!.host.devices.get('eth1')!.mac;
    expect(r.execs.find(e => e.host === 'router')!.result.stdout).toContain(d2mac);
    expect([held(r).ok, held(r).error]).toEqual([true, 'ECONNRESET']);
    expect(r.clients.filter(c => c.id !== 'held').map(c => c.ok)).toEqual([true, true]);
    // The crashed director is gone from the link: its processes died, it sends nothing after 10 s.
    expect(procs(r.world.hosts.get('director')!.host).procs.size).toBe(0);
    expect(r.world.records.some(x => x.host === 'director' && x.verdict === 'tx' && x.t > 10e9)).toBe(false);
  });

  test('with sloppy_tcp=1 and mh on both directors the held connection continues on the new master', () => {
    const sloppy = FO.replace(/lb_algo rr/g, 'lb_algo mh').replace(/      systemctl start keepalived\n/g, '      modprobe ip_vs\n      sysctl -w net.ipv4.vs.sloppy_tcp=1\n      systemctl start keepalived\n');
    const r = runFo(sloppy);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect([held(r).ok, held(r).error, held(r).reply.split('\n')[1]]).toEqual([true, null, 'RS2 bytes=0']);
    // director2 made an entry for the held connection from a mid-stream segment (sloppy), to the same real server.
    expect(r.execs.find(e => e.host === 'director2' && e.command === 'ipvsadm -Lnc')!.result.stdout).toMatch(/203\.0\.113\.10:41001 172\.16\.29\.6:9001\s+192\.168\.134\.5:9001/);
  });

  test('with the IPVS sync daemon (ipvsadm --start-daemon master / backup) the backup holds the entry and the connection continues', () => {
    let sync = FO.replace(/      systemctl start keepalived\n/g, '      systemctl start keepalived\n      ipvsadm --start-daemon ROLE --mcast-interface eth1\n');
    const i = sync.indexOf('  director2:');
    sync = sync.slice(0, i).replace('ROLE', 'master') + sync.slice(i).replace('ROLE', 'backup');
    sync = sync.replace('  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 9s }\n  - { exec: ipvsadm -Ln, host: director2, at: 9s }\n  - { exec: ipvsadm -L --daemon, host: director2, at: 9s }\n  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }');
    const r = runFo(sync);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    const at9 = r.execs.filter(e => e.host === 'director2' && e.at === 9e9).map(e => e.result.stdout);
    expect(at9[0]).toMatch(/TCP 1[45]:\d\d  ESTABLISHED 203\.0\.113\.10:41001 172\.16\.29\.6:9001   192\.168\.134\.5:9001/);
    expect(at9[1]).toContain('192.168.134.5:9001           Tunnel  1      1          0');
    expect(at9[2]).toBe('backup sync daemon (mcast=eth1, syncid=0)\n');
    // One sync message: UDP 224.0.0.81:8848, TTL 1, 2 s after the connection's third packet.
    const msgs = r.world.records.filter(x => x.host === 'director' && x.verdict === 'tx' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 17);
    expect(msgs).toHaveLength(1);
    const m = msgs[0].packet.pkt;
    expect(m.proto === 'ipv4' && [formatIp4(m.dst), m.ttl, m.payload.proto === 'udp' && m.payload.dport]).toEqual(['224.0.0.81', 1, 8848]);
    expect([held(r).ok, held(r).error, held(r).reply.split('\n')[1]]).toEqual([true, null, 'RS2 bytes=0']);
  });

  /** The sync daemon variant, with director2's keepalived.conf lacking rs2 (192.168.134.5) and `traffic` in place of the scenario's. */
  const syncWithoutRs2 = (traffic: string): string => {
    let t = FO.replace(/      systemctl start keepalived\n/g, '      systemctl start keepalived\n      ipvsadm --start-daemon ROLE --mcast-interface eth1\n');
    const i = t.indexOf('  director2:');
    const d2 = t.slice(i).replace('ROLE', 'backup').replace(/            real_server 192\.168\.134\.5 9001 \{[\s\S]*?\n            \}\n/, '');
    t = t.slice(0, i).replace('ROLE', 'master') + d2;
    return t.slice(0, t.indexOf('traffic:')) + `traffic:\n${traffic}`;
  };

  test('sync to a backup without the real server: an unbound entry (ipvsadm -Lnc lists it, no counters); after the takeover its first packet panics the new master, as the NULL cp->dest in ip_vs_tunnel_xmit does', () => {
    const r = runFo(syncWithoutRs2([
      '  - { id: held, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:41001, mode: hold, at: 6s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 9s }',
      '  - { exec: ipvsadm -Ln, host: director2, at: 9s }',
      '  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }',
      '  - { release: held, at: 16s }',
      '',
    ].join('\n')));
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    const at9 = r.execs.filter(e => e.host === 'director2' && e.at === 9e9).map(e => e.result.stdout);
    expect(at9[0]).toMatch(/TCP 1[45]:\d\d  ESTABLISHED 203\.0\.113\.10:41001 172\.16\.29\.6:9001   192\.168\.134\.5:9001/);
    expect(at9[1]).not.toContain('192.168.134.5');
    expect(at9[1]).toContain('172.16.197.3:9001            Tunnel  1      0          0');
    // After the takeover the held connection's segments reach director2's unbound entry.
    const refused = r.world.records.filter(x => x.host === 'director2' && x.reason?.code === 'ipvs_unbound_tunnel');
    expect(refused).toHaveLength(1);
    expect(refused[0].t).toBeGreaterThan(16e9);
    const kernel = procs(r.world.hosts.get('director2')!.host).journal.filter(e => e.ident === 'kernel').map(e => [e.t, e.msg]);
    expect(kernel).toEqual([
      [refused[0].t, 'BUG: kernel NULL pointer dereference in ip_vs_tunnel_xmit (cp->dest->tun_type)'],
      [refused[0].t, 'Kernel panic - not syncing: Fatal exception in interrupt'],
    ]);
    expect(r.world.hosts.get('director2')!.host.crashed).toBe(true);
    // The FIN's retransmissions meet a dead director.
    expect(r.world.records.filter(x => x.host === 'director2' && x.reason?.code === 'host_crashed').length).toBeGreaterThan(0);
    const why = explainDrop(refused[0].reason!);
    expect(why.check).toBe('ip_vs_tunnel_xmit (cp->dest is NULL)');
    expect(why.message).toContain('no real server 192.168.134.5');
    expect(why.fix).toContain('ipvsadm -a -t VIP:PORT -r 192.168.134.5 -i');
    const c = held(r);
    // The client never sees its close answered.
    expect([c.ok, c.error, c.state]).toEqual([true, null, 'closing']);
    expect(c.reply.includes('RS2 bytes=0')).toBe(false);
    expect(r.world.records.some(x => x.host === 'director2' && x.point === 'ipvs' && x.verdict === 'encap')).toBe(false);
  });

  test('direct routing: a packet on the unbound entry goes out by ip_vs_dr_xmit to the address the entry holds, and the connection continues', () => {
    // The failover topology with the real servers on the VIP's LAN (VIP on lo) and lb_kind DR.
    let t = FO.replace(/  - \{ name: rs[12]-lan.*\n/g, '').replace('ends: [director:eth1, director2:eth1, router:eth2]', 'ends: [director:eth1, director2:eth1, router:eth2, rs1:eth0, rs2:eth0]')
      .replace(/      ip link set eth[34] up\n      ip addr add \S+ dev eth[34]\n/g, '')
      .replace(/lb_kind TUN/g, 'lb_kind DR').replace(/172\.16\.197\.3/g, '172.16.29.7').replace(/192\.168\.134\.5/g, '172.16.29.8')
      .replace(/via (172\.16\.197|192\.168\.134)\.1/g, 'via 172.16.29.1').replace(/        net\.ipv4\.conf\.tunl0\..*\n/g, '')
      .replace(/      modprobe ipip\n      ifconfig tunl0 172\.16\.29\.6 netmask 255\.255\.255\.255 up\n/g, '      ip addr add 172.16.29.6/32 dev lo\n');
    t = t.replace(/      systemctl start keepalived\n/g, '      systemctl start keepalived\n      ipvsadm --start-daemon ROLE --mcast-interface eth1\n');
    const i = t.indexOf('  director2:');
    t = t.slice(0, i).replace('ROLE', 'master') + t.slice(i).replace('ROLE', 'backup').replace(/            real_server 172\.16\.29\.8 9001 \{[\s\S]*?\n            \}\n/, '');
    t = t.slice(0, t.indexOf('traffic:')) + 'traffic:\n' + [
      '  - { id: held, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:41001, mode: hold, at: 6s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 9s }',
      '  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }',
      '  - { release: held, at: 16s }',
      '',
    ].join('\n');
    const r = runFo(t);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(r.execs.find(e => e.host === 'director2' && e.command === 'ipvsadm -Lnc')!.result.stdout).toMatch(/ESTABLISHED 203\.0\.113\.10:41001 172\.16\.29\.6:9001   172\.16\.29\.8:9001/);
    expect(r.world.records.filter(x => x.host === 'director2' && x.point === 'ipvs' && x.verdict === 'xmit').length).toBeGreaterThan(0);
    expect([held(r).ok, held(r).error, held(r).reply.split('\n')[1]]).toEqual([true, null, 'RS2 bytes=0']);
  });

  test('net.ipv4.vs.backup_only=1 on the backup: IPVS leaves every packet to the director\'s own stack (no listener: RST), the unbound entry is never reached', () => {
    const traffic = [
      '  - { id: held, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:41001, mode: hold, at: 6s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 9s }',
      '  - { exec: echo c > /proc/sysrq-trigger, host: director, at: 10s }',
      '  - { release: held, at: 16s }',
      '',
    ].join('\n');
    const t = syncWithoutRs2(traffic);
    const i = t.indexOf('  director2:');
    const r = runFo(t.slice(0, i) + t.slice(i).replace('      ipvsadm --start-daemon backup', '      modprobe ip_vs\n      sysctl -w net.ipv4.vs.backup_only=1\n      ipvsadm --start-daemon backup'));
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    // The daemon still fills the table.
    expect(r.execs.find(e => e.host === 'director2' && e.command === 'ipvsadm -Lnc')!.result.stdout).toContain('ESTABLISHED 203.0.113.10:41001');
    expect(r.world.records.some(x => x.host === 'director2' && x.reason?.code === 'ipvs_unbound_tunnel')).toBe(false);
    expect(r.world.records.some(x => x.host === 'director2' && x.reason?.code === 'tcp_no_socket')).toBe(true);
    expect([held(r).ok, held(r).error]).toEqual([true, 'ECONNRESET']);
  });

  test('the real server added on the backup later: the entry is bound by the master\'s next sync message for it, not by ipvsadm -a', () => {
    const r = runFo(syncWithoutRs2([
      '  - { id: held, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:41001, mode: hold, at: 6s }',
      '  - { exec: ipvsadm -a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i, host: director2, at: 9s }',
      '  - { exec: ipvsadm -Ln, host: director2, at: 9.5s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 9.5s }',
      '  - { release: held, at: 11s }',
      '  - { exec: ipvsadm -Ln, host: director2, at: 12.5s }',
      '  - { exec: ipvsadm -Ln, host: director2, at: 14s }',
      '  - { exec: ipvsadm -Lnc, host: director2, at: 14s }',
      '',
    ].join('\n')));
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    const ln = r.execs.filter(e => e.host === 'director2' && e.command === 'ipvsadm -Ln').map(e => e.result.stdout);
    // Added: the entry stays unbound, nothing counts it.
    expect(ln[0]).toContain('192.168.134.5:9001           Tunnel  1      0          0');
    const lnc = r.execs.filter(e => e.host === 'director2' && e.command === 'ipvsadm -Lnc').map(e => e.result.stdout);
    expect(lnc[0]).toMatch(/TCP 1[45]:\d\d  ESTABLISHED 203\.0\.113\.10:41001 172\.16\.29\.6:9001   192\.168\.134\.5:9001/);
    // The release's FIN moves the master's entry to FIN_WAIT: synced at once, sent 2 s later.
    expect(ln[1]).toContain('192.168.134.5:9001           Tunnel  1      0          0');
    expect(ln[2]).toContain('192.168.134.5:9001           Tunnel  1      0          1');
    expect(lnc[1]).toMatch(/TCP 01:5\d  FIN_WAIT    203\.0\.113\.10:41001 172\.16\.29\.6:9001   192\.168\.134\.5:9001/);
  });

  test('a crashed host runs no command', () => {
    const r = runFo(FO.replace("  - { exec: ipvsadm -Lnc, host: director2, at: 18s }", "  - { exec: ipvsadm -Lnc, host: director, at: 18s }"));
    const e = r.execs.find(x => x.host === 'director' && x.at === 18e9)!;
    expect([e.result.exit, e.result.stderr]).toEqual([255, 'lvsim: director has crashed (kernel panic): it runs nothing until it boots again ({ fault: boot, host: director })\n']);
  });
});

describe('lvs_sync_daemon: keepalived runs the IPVS sync daemons (ipvswrapper.c ipvs_syncd_cmd)', () => {
  const SYNC = readFileSync('scenarios/keepalived-failover-sync.yaml', 'utf8');
  /** keepalived-failover-sync.yaml with the daemons left to keepalived: `line` in each global_defs, no ipvsadm --start-daemon. */
  const managed = (line: string, traffic: string, until = '22s') => {
    const t = SYNC.replace(/^ {6}ipvsadm --start-daemon .*\n/gm, '').replace(/( +)router_id (dir\d)\n/g, `$1router_id $2\n$1${line}\n`);
    expect(t).not.toMatch(/^ +ipvsadm --start-daemon/m);
    return runScenarioText(t.slice(0, t.indexOf('until:')) + `until: ${until}\ntraffic:\n${traffic}`, 'lvs-sync.yaml');
  };
  const daemons = (r: Run, host: string, at: number) => r.execs.find(e => e.host === host && e.command === 'ipvsadm -L --daemon' && e.at === at * 1e9)!.result.stdout;
  const FAILOVER = ['director', 'director2'].map(h => `  - { exec: ipvsadm -L --daemon, host: ${h}, at: 5s }\n`).join('') + SYNC.slice(SYNC.indexOf('traffic:\n') + 9)
    .replace('  - { exec: ip -br addr show dev eth1, host: director2, at: 15s }\n', '  - { exec: ipvsadm -L --daemon, host: director2, at: 15s }\n');

  test('with inst: the MASTER runs the master daemon, the BACKUP the backup (syncid the VRID); the backup takes over as master and the held connection continues', () => {
    const r = managed('lvs_sync_daemon eth1 inst VI_1', FAILOVER);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(daemons(r, 'director', 5)).toBe('master sync daemon (mcast=eth1, syncid=51)\n');
    expect(daemons(r, 'director2', 5)).toBe('backup sync daemon (mcast=eth1, syncid=51)\n');
    // director crashed at 10 s: director2 became MASTER, so ipvs_syncd_master stopped its backup daemon.
    expect(daemons(r, 'director2', 15)).toBe('master sync daemon (mcast=eth1, syncid=51)\n');
    const held = r.clients.find(c => c.id === 'held')!;
    expect([held.ok, held.error, held.reply.includes('bytes=0')]).toEqual([true, null, true]);
    expect(r.execs.find(e => e.host === 'director2' && e.command === 'ipvsadm -Lnc' && e.at === 9e9)!.result.stdout).toMatch(/ESTABLISHED 203\.0\.113\.10:41001/);
  });

  test('a master that steps down (systemctl stop on the other side, then preemption) swaps its daemon back; stopping keepalived stops it', () => {
    const r = managed('lvs_sync_daemon eth1 inst VI_1 id 9', [
      '  - { exec: systemctl stop keepalived, host: director, at: 4s }',
      '  - { exec: ipvsadm -L --daemon, host: director, at: 6s }',
      '  - { exec: ipvsadm -L --daemon, host: director2, at: 6s }',
      '  - { exec: systemctl start keepalived, host: director, at: 7s }',
      '  - { exec: ipvsadm -L --daemon, host: director, at: 14s }',
      '  - { exec: ipvsadm -L --daemon, host: director2, at: 14s }',
    ].join('\n') + '\n', '15s');
    expect(daemons(r, 'director', 6)).toBe('');
    expect(daemons(r, 'director2', 6)).toBe('master sync daemon (mcast=eth1, syncid=9)\n');
    expect(daemons(r, 'director', 14)).toBe('master sync daemon (mcast=eth1, syncid=9)\n');
    expect(daemons(r, 'director2', 14)).toBe('backup sync daemon (mcast=eth1, syncid=9)\n');
    expect(procs(r.world.hosts.get('director2')!.host).journal.filter(e => e.msg.startsWith('IPVS cmd'))).toEqual([]);
  });

  test('without inst: the checker process runs both daemons (syncid 0) on each director, and stops both when it stops', () => {
    const r = managed('lvs_sync_daemon eth1', [
      '  - { exec: ipvsadm -L --daemon, host: director, at: 2s }',
      '  - { exec: systemctl stop keepalived, host: director, at: 3s }',
      '  - { exec: ipvsadm -L --daemon, host: director, at: 4s }',
    ].join('\n') + '\n', '5s');
    expect(daemons(r, 'director', 2)).toBe('master sync daemon (mcast=eth1, syncid=0)\nbackup sync daemon (mcast=eth1, syncid=0)\n');
    expect(daemons(r, 'director', 4)).toBe('');
  });

  test("a missing interface: the kernel's refusal in keepalived's log line, keepalived runs on", () => {
    const r = managed('lvs_sync_daemon eth7 inst VI_1', '  - { exec: ipvsadm -L --daemon, host: director, at: 5s }\n', '6s');
    expect(daemons(r, 'director', 5)).toBe('');
    const log = procs(r.world.hosts.get('director')!.host).journal.filter(e => e.ident === 'Keepalived_vrrp' && e.msg.startsWith('IPVS cmd')).map(e => e.msg);
    expect(log).toEqual([
      'IPVS cmd IP_VS_SO_SET_STARTDAEMON(1163) error: No such device(19)',
      'IPVS cmd IP_VS_SO_SET_STOPDAEMON(1164) error: No daemon is running(3)',
      'IPVS cmd IP_VS_SO_SET_STARTDAEMON(1163) error: No such device(19)',
    ]);
    expect(r.world.hosts.get('director')!.host.devices.get('eth1')!.addrs.some(a => a.prefixLen === 32)).toBe(true);
  });
});

describe('multicast the router did not join', () => {
  test('VRRP adverts reaching the router end at its NIC (mc_not_joined: the multicast filter), counted by no interface, not as another host\'s frame', () => {
    const r = runScenarioText(readFileSync('scenarios/keepalived-failover.yaml', 'utf8'), 'ka.yaml');
    const atRouter = r.world.records.filter(x => x.host === 'router' && x.verdict === 'drop');
    expect(atRouter.length).toBeGreaterThan(0);
    expect([...new Set(atRouter.map(x => x.reason?.code))]).toEqual(['mc_not_joined']);
    expect(atRouter[0].reason).toEqual({ code: 'mc_not_joined', dev: 'eth2', mac: '01:00:5e:00:00:12' });
    expect(rightlyIgnored(atRouter[0].reason!)).toBe(true);
  });
});

describe('the shipped keepalived scenarios', () => {
  test.each(['keepalived-rs-down', 'keepalived-green-dead', 'keepalived-failover', 'keepalived-failover-sloppy', 'keepalived-failover-sync', 'keepalived-failover-sync-missing-rs', 'keepalived-failover-lvs-sync'])('%s loads without errors and every client gets an answer or a reason', (name) => {
    const f = `scenarios/${name}.yaml`;
    const r = runScenarioText(readFileSync(f, 'utf8'), f);
    expect(r.diagnostics.filter(d => d.severity === 'error')).toEqual([]);
    expect(r.notApplied).toEqual([]);
    for (const c of r.clients) expect(c.ok === true || c.error !== null || c.state === 'connecting').toBe(true);
  });

  test('the three failover outcomes: reset without sync, continued with sloppy_tcp + mh, continued with the sync daemon', () => {
    const held = (name: string) => {
      const r = runScenarioText(readFileSync(`scenarios/${name}.yaml`, 'utf8'), `${name}.yaml`);
      const c = r.clients.find(x => x.id === 'held')!;
      return [c.ok, c.error, c.reply.includes('bytes=0')];
    };
    expect(held('keepalived-failover')).toEqual([true, 'ECONNRESET', false]);
    expect(held('keepalived-failover-sloppy')).toEqual([true, null, true]);
    expect(held('keepalived-failover-sync')).toEqual([true, null, true]);
    expect(held('keepalived-failover-lvs-sync')).toEqual([true, null, true]);
  });

  test('green-dead: the clients rr sends to rs2 never connect, those to rs1 do', () => {
    const r = runScenarioText(readFileSync('scenarios/keepalived-green-dead.yaml', 'utf8'), 'g.yaml');
    expect(r.clients.map(c => c.server ?? c.state)).toEqual(['connecting', 'RS1', 'connecting', 'RS1']);
    expect(r.world.records.some(x => x.host === 'rs2' && x.verdict === 'drop')).toBe(true);
  });
});

describe('VRRP (vrrp.c, vrrp_scheduler.c): stop, preemption, nopreempt, link faults', () => {
  const FO = readFileSync('scenarios/keepalived-failover.yaml', 'utf8');
  const withTraffic = (traffic: string, edit: (t: string) => string = t => t, until = '30s') => {
    const t = edit(FO);
    return runScenarioText(t.slice(0, t.indexOf('until:')) + `until: ${until}\ntraffic:\n${traffic}`, 'vrrp.yaml');
  };
  const vrrpLog = (r: Run, h: string) => procs(r.world.hosts.get(h)!.host).journal.filter(e => e.ident === 'Keepalived_vrrp' && !e.msg.startsWith('Sending gratuitous') && !e.msg.includes('Sending/queueing')).map(e => [Math.round(e.t / 1e7) / 100, e.msg] as const);
  const hasVip = (r: Run, h: string) => r.world.hosts.get(h)!.host.devices.get('eth1')!.addrs.some(a => a.prefixLen === 32);

  test('systemctl stop on the master: a priority 0 advert, the backup takes over after its skew time only', () => {
    const r = withTraffic('  - { exec: systemctl stop keepalived, host: director, at: 8s }\n', undefined, '12s');
    const d2 = vrrpLog(r, 'director2');
    const master = d2.find(x => x[1] === '(VI_1) Entering MASTER STATE')!;
    // skew_time = (256 - 100) / 256 s after the priority 0 advert.
    expect(master[0]).toBeCloseTo(8 + 156 / 256, 1);
    expect(d2.map(x => x[1])).toContain('(VI_1) Backup received priority 0 advertisement');
    expect(hasVip(r, 'director')).toBe(false);
    expect(hasVip(r, 'director2')).toBe(true);
    expect(vrrpLog(r, 'director').slice(-3).map(x => x[1])).toEqual(['Stopping', '(VI_1) sent 0 priority', '(VI_1) removing VIPs.']);
  });

  test('preemption: the higher priority director comes back, discards the lower adverts, takes over; the other steps down', () => {
    const r = withTraffic('  - { exec: systemctl stop keepalived, host: director, at: 8s }\n  - { exec: systemctl start keepalived, host: director, at: 12s }\n', undefined, '20s');
    const d1 = vrrpLog(r, 'director').filter(x => x[0] >= 12).map(x => x[1]);
    expect(d1.slice(0, 3)).toEqual(['(VI_1) removing VIPs.', '(VI_1) Entering BACKUP STATE (init)', '(VI_1) received lower priority (100) advert from 172.16.29.4 - discarding']);
    expect(d1).toContain('(VI_1) Entering MASTER STATE');
    const d2 = vrrpLog(r, 'director2').filter(x => x[0] >= 12).map(x => x[1]);
    expect(d2).toEqual(['(VI_1) Master received advert from 172.16.29.5 with higher priority 150, ours 100', '(VI_1) Entering BACKUP STATE', '(VI_1) removing VIPs.']);
    expect([hasVip(r, 'director'), hasVip(r, 'director2')]).toEqual([true, false]);
  });

  test('nopreempt: the returning director stays BACKUP', () => {
    const r = withTraffic('  - { exec: systemctl stop keepalived, host: director, at: 8s }\n  - { exec: systemctl start keepalived, host: director, at: 12s }\n',
      t => t.replace('            priority 150\n', '            priority 150\n            nopreempt\n').replace('state MASTER', 'state BACKUP'), '20s');
    expect(vrrpLog(r, 'director').filter(x => x[0] >= 12).map(x => x[1])).toEqual(['(VI_1) removing VIPs.', '(VI_1) Entering BACKUP STATE (init)']);
    expect([hasVip(r, 'director'), hasVip(r, 'director2')]).toEqual([false, true]);
  });

  test('the master\'s interface goes down: FAULT (VIPs removed), the backup takes over; link up: BACKUP again', () => {
    const r = withTraffic('  - { exec: ip link set eth1 down, host: director, at: 8s }\n  - { exec: ip link set eth1 up, host: director, at: 14s }\n', undefined, '20s');
    const d1 = vrrpLog(r, 'director').filter(x => x[0] >= 8).map(x => x[1]);
    expect(d1.slice(0, 2)).toEqual(['(VI_1) Entering FAULT STATE', '(VI_1) removing VIPs.']);
    expect(d1).toContain('(VI_1) Entering BACKUP STATE');
    expect(vrrpLog(r, 'director2').map(x => x[1])).toContain('(VI_1) Entering MASTER STATE');
  });

  // director2's block comes second in the file.
  const onDirector2 = (from: string, to: string) => (t: string) => { const i = t.indexOf(from, t.indexOf('router_id dir2')); return t.slice(0, i) + to + t.slice(i + from.length); };

  test('advert_int 1 against advert_int 3: each drops the other\'s adverts (vrrp_check_packet), both end MASTER with the VIP', () => {
    const r = withTraffic('', onDirector2('advert_int 1', 'advert_int 3'), '15s');
    const d2 = vrrpLog(r, 'director2');
    expect(d2.map(x => x[1])).toContain("(VI_1) advertisement interval mismatch mine=3 sec rcv'd=1 sec");
    // No advert is taken: director2 goes MASTER after 3 x 3 s + (256 - 100) / 256 x 3 s from its start at 0.25 s.
    const master = d2.find(x => x[1] === '(VI_1) Entering MASTER STATE')!;
    expect(master[0]).toBeCloseTo(0.25 + 9 + 3 * 156 / 256, 1);
    // director drops director2's first advert as MASTER and stays MASTER.
    expect(vrrpLog(r, 'director').filter(x => x[0] >= master[0]).map(x => x[1])).toEqual(["(VI_1) advertisement interval mismatch mine=1 sec rcv'd=3 sec"]);
    expect([hasVip(r, 'director'), hasVip(r, 'director2')]).toEqual([true, true]);
    // vrrp_dispatcher_read restarts a MASTER's advert timer on every advert it reads, dropped ones
    // too: director's every 1 s keep director2's 3 s from running out, so it sends only its first.
    const adverts = (h: string) => r.world.records.filter(x => x.host === h && x.verdict === 'tx' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 112).map(x => x.t / 1e9);
    expect(adverts('director2')).toHaveLength(1);
    expect(adverts('director').at(-1)).toBeGreaterThan(14);
  });

  test('advert_int 1.5 on both: rounded to 2 s on both sides (vrrp_complete_instance), so the adverts match and one is MASTER', () => {
    const r = withTraffic('', t => t.replace(/advert_int 1\n/g, 'advert_int 1.5\n'), '12s');
    expect(vrrpLog(r, 'director2').map(x => x[1]).some(m => m.includes('mismatch'))).toBe(false);
    expect([hasVip(r, 'director'), hasVip(r, 'director2')]).toEqual([true, false]);
    // The master sends every 2 s.
    const adverts = r.world.records.filter(x => x.host === 'director' && x.verdict === 'tx' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 112).map(x => x.t / 1e9);
    expect(adverts.at(-1)! - adverts.at(-2)!).toBeCloseTo(2, 6);
  });

  test('a different VIP list: the advert is dropped with keepalived\'s line, both end MASTER', () => {
    const count = withTraffic('', onDirector2('172.16.29.6/32 dev eth1', '172.16.29.6/32 dev eth1\n                172.16.29.7/32 dev eth1'), '6s');
    expect(vrrpLog(count, 'director2').map(x => x[1])).toContain('(VI_1) received an unexpected ip number count 1, expected 2!');
    expect(vrrpLog(count, 'director').map(x => x[1])).toContain('(VI_1) received an unexpected ip number count 2, expected 1!');
    expect([hasVip(count, 'director'), hasVip(count, 'director2')]).toEqual([true, true]);
    const other = withTraffic('', onDirector2('172.16.29.6/32 dev eth1', '172.16.29.7/32 dev eth1'), '6s');
    expect(vrrpLog(other, 'director2').map(x => x[1])).toContain('(VI_1) ip address associated with VRID 51 not present in MASTER advert: 172.16.29.7');
    expect(vrrpLog(other, 'director').map(x => x[1])).toContain('(VI_1) ip address associated with VRID 51 not present in MASTER advert: 172.16.29.6');
    expect(vrrpLog(other, 'director2').map(x => x[1])).toContain('(VI_1) Entering MASTER STATE');
  });

  test('vrrp_sync_group: a second instance follows the first into MASTER', () => {
    const two = (t: string) => t.replace(/        vrrp_instance VI_1 \{/g, '        vrrp_sync_group G1 {\n            group {\n                VI_1\n                VI_2\n            }\n        }\n        vrrp_instance VI_2 {\n            state BACKUP\n            interface eth0\n            virtual_router_id 52\n            priority 50\n            advert_int 1\n            virtual_ipaddress {\n                172.16.69.100/32 dev eth0\n            }\n        }\n        vrrp_instance VI_1 {');
    const r = withTraffic('  - { exec: ip -br addr show dev eth0, host: director, at: 6s }\n', two, '7s');
    const d1 = vrrpLog(r, 'director').map(x => x[1]);
    expect(d1).toContain('(VI_1) Entering MASTER STATE');
    expect(d1).toContain('(VI_2) Entering MASTER STATE');
    expect(r.execs[0].result.stdout).toContain('172.16.69.100/32');
  });
});
