/**
 * What operators look at, and the two wrong answers of the VIP-LAN and netmask mistakes:
 * the director bypassed when a real server on the VIP's LAN answers ARP for the VIP (named with
 * the reply that set the router's entry and the real server's arp_ignore/arp_announce); a VIP
 * given a /24 on tunl0 (named as the connected route, not a missing gateway); the path MTU
 * a client learns through the tunnel (ip route get's cache line); tcpdump and dmesg in exec.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkVector, replayVector, type Vector } from '../../src/world/replay';
import { explainDrop } from '../../src/trace/explain';
import { runFile } from './helpers';
import { StepIndex } from '../../src/trace/steps';

const V2 = 'test/fixtures/oracle/v2';
const raw = (f: string) => JSON.parse(readFileSync(`${V2}/${f}`, 'utf8'));
const vec = (o: unknown): Vector => {
  const c = checkVector(o);
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  return c.vector;
};

/** The VIP-LAN vector with the real server's ARP sysctls left at their defaults (0). */
function vipLanArpDefaults() {
  const v = raw('arp-samelan-ignore1-announce2.json');
  v.id = 'arp-samelan-defaults';
  v.hosts.lan5.setup = v.hosts.lan5.setup.filter((l: string) => !l.startsWith('sysctl'))
    .concat(['sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0']);
  // The real server's port on the router's bridge comes first: its reply reaches the router first.
  v.segments[2] = ['lan5:eth0', 'director:eth1', 'router:br29'];
  v.steps = v.steps.slice(1).map((s: Record<string, unknown>) => ({ ...s, expect: undefined }));
  delete v.final;
  delete v.observe;
  return vec(v);
}

describe('a real server on the VIP LAN with arp_ignore=0', () => {
  it('the router resolves the VIP to the first answer (the real server), so the director is bypassed, and the finding says why', () => {
    const r = replayVector(vipLanArpDefaults(), 'defaults.json');
    expect(r.steps.every(s => s.ok && s.rs === '172.16.29.7')).toBe(true);
    // IPVS never saw a connection.
    expect(r.final['ipvsadm-Ln']).toMatch(/172\.16\.29\.7:9001\s+Tunnel\s+1\s+0\s+0/);
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ code: 'director_bypassed', host: 'router', dev: 'br29', owner: 'lan5', ownerDev: 'eth0', arpIgnore: 0, arpAnnounce: 0, vipDev: 'tunl0' });
    expect(f.setBy?.op).toBe('reply');
    const setter = r.world.records[f.setBy!.seq]!;
    expect(setter).toMatchObject({ host: 'router', point: 'arp', verdict: 'consumed' });
    expect(f.message).toMatch(/^Director bypassed: router sent \d+ client packet\(s\) for the VIP 172\.16\.29\.6 on br29 straight to lan5 eth0/);
    expect(f.message).toMatch(/set by lan5's ARP reply "172\.16\.29\.6 is-at [0-9a-f:]+" \(trace #\d+/);
    expect(f.message).toMatch(/arp_ignore=0/);
    expect(f.message).toMatch(/arp_announce=0/);
    expect(f.fix).toMatch(/arp_ignore=1 .*arp_announce=2/);
    // The direct packets are not labelled as decapsulated on the real server (step 4).
    const direct = r.world.records.filter(x => x.host === 'lan5' && x.packet.pkt.proto === 'ipv4' && x.packet.pkt.protocol === 6 && x.point === 'eth0' && x.verdict === 'rx');
    expect(direct.length).toBeGreaterThan(0);
    const steps = new StepIndex(r.world.records, r.world.stepContext());
    expect(direct.every(x => steps.of(x.seq) === 0)).toBe(true);
    // while the tunnelled ones of the reference setup still are (step 5 on the real server: decapsulation and delivery).
    const ref = replayVector(vec(raw('baseline.json')), 'baseline.json');
    const refSteps = new StepIndex(ref.world.records, ref.world.stepContext());
    expect(ref.world.records.some(x => x.host === 'rs1' && x.verdict === 'decap' && refSteps.of(x.seq) === 5)).toBe(true);
    expect(ref.world.records.some(x => x.host === 'rs1' && x.point === 'socket' && refSteps.of(x.seq) === 5)).toBe(true);
  });

  it('with the reference settings (arp_ignore=1, arp_announce=2) there is no bypass', () => {
    const r = replayVector(vec(raw('arp-samelan-ignore1-announce2.json')), 'x.json');
    expect(r.findings).toEqual([]);
  });
});

describe('ifconfig tunl0 VIP netmask 255.255.255.0 on a real server', () => {
  it('names the /24 connected route on tunl0 as the cause, not a missing gateway', () => {
    const v = raw('rpf-strict-all-only.json');
    v.id = 'tunl0-netmask';
    v.segments = [['director:eth0', 'router:br69'], ['director:eth1', 'router:br29', 'client:c0'], ['router:r-rs1', 'rs1:eth0']];
    v.hosts.client.setup = ['ip link set lo up', 'ip link set c0 up', 'ip addr add 172.16.29.50/24 dev c0', 'ip route add default via 172.16.29.1'];
    v.hosts.router.setup = v.hosts.router.setup.filter((l: string) => !l.includes('r-cli'));
    v.hosts.rs1.setup = v.hosts.rs1.setup.filter((l: string) => !(l.includes('tunl0') && !l.startsWith('sysctl')) && !l.includes('rp_filter=1'));
    v.hosts.rs1.setup.splice(5, 0, 'ifconfig tunl0 172.16.29.6 netmask 255.255.255.0 up');
    v.steps = [{ n: 1, do: 'connect', id: 'c1', src: '172.16.29.50:41001', mode: 'close', timeout_ms: 3000, expect: { ok: false, error: 'ETIMEDOUT' } }];
    delete v.final;
    v.observe = {};
    const r = replayVector(vec(v), 'netmask.json');
    expect(r.diffs).toEqual([]);
    const d = r.world.records.find(x => x.host === 'rs1' && x.verdict === 'drop')!;
    expect(d.reason).toMatchObject({ code: 'no_route', tunnel: 'tunl0', connected: { prefixLen: 24 } });
    const ex = explainDrop(d.reason!);
    expect(ex.message).toMatch(/172\.16\.29\.0\/24 dev tunl0, the connected route the netmask of 172\.16\.29\.6\/24 on tunl0 created/);
    expect(ex.fix).toMatch(/netmask 255\.255\.255\.255/);
    expect(ex.fix).not.toMatch(/GATEWAY/);
  });
});

describe('path MTU through the tunnel, as the client and ip route get see it', () => {
  it('a send step: frag-needed 1480 from the VIP, the transfer completes, pmtu 1480 and MSS 1428', () => {
    const run = runFile('scenarios/mtu-frag-needed.yaml', { edit: t => t.replace('send: 6000 }', 'send: 20000, timeout: 8s }') });
    const c = run.clients[0]!;
    expect(c).toMatchObject({ ok: true, serverBytes: 20000 });
    expect(c.pmtu).toBeLessThan(1500);
    expect(c.sndMss).toBe(c.pmtu! - 52);
    const get = run.world.exec('client', 'ip route get 172.16.29.6');
    expect(get.stdout).toMatch(new RegExp(`^172\\.16\\.29\\.6 via \\S+ dev \\S+ src \\S+ uid 0 \\n    cache expires \\d+sec mtu ${c.pmtu} \\n$`));
  });

  it('a timeout: in the scenario is the client program\'s socket timeout', () => {
    const run = runFile('scenarios/misconfig-rp-filter-all.yaml', { edit: t => t.replace(/(connect: 172\.16\.29\.6:9001[^}]*)}/g, '$1, timeout: 1500ms }') });
    const failed = run.clients.filter(c => !c.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const c of failed) {
      expect(c.error).toBe('ETIMEDOUT');
      expect(c.doneAt! - c.startedAt).toBe(1_500_000_000);
    }
  });

  it('refuses a timeout that is not a duration, at its position', () => {
    const run = runFile('scenarios/mtu-frag-needed.yaml', { edit: t => t.replace('send: 6000 }', 'send: 6000, timeout: soon }') });
    expect(run.diagnostics.map(d => [d.found, d.expected])).toContainEqual(['soon', "the client's timeout, such as 3s or 500ms"]);
  });
});

describe('tcpdump and dmesg on a host after the run', () => {
  it('tcpdump -n -i DEV prints what crossed that device, in tcpdump\'s words', () => {
    const run = runFile('scenarios/tun-different-subnets.yaml');
    const r = run.world.exec('rs1', 'tcpdump -n -i eth0');
    expect(r.exit).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 172\.16\.69\.15 > 172\.16\.197\.3: IP 203\.0\.113\.10\.\d+ > 172\.16\.29\.6\.9001: Flags \[S\]/m);
    expect(r.stdout).toMatch(/IP 172\.16\.29\.6\.9001 > 203\.0\.113\.10\.\d+: Flags \[S\.\]/);
    expect(r.stderr).toMatch(/listening on eth0, link-type EN10MB \(Ethernet\), snapshot length 262144 bytes\n\n\d+ packets captured/);
    const tun = run.world.exec('rs1', 'tcpdump -n -i tunl0 -c 1');
    expect(tun.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 203\.0\.113\.10\.\d+ > 172\.16\.29\.6\.9001: Flags \[S\]/);
    expect(tun.stderr).toMatch(/link-type RAW \(Raw IP\)[\s\S]*1 packet captured/);
    expect(run.world.exec('rs1', 'tcpdump -n -i eth7')).toMatchObject({ exit: 1 });
    expect(run.world.exec('rs1', 'tcpdump -n -i eth0 port 9001').stderr).toMatch(/filter expressions are not modelled/);
  });

  it('dmesg shows the martian source lines log_martians asks for, destination first', () => {
    const run = runFile('scenarios/misconfig-rp-filter-all.yaml', { edit: t => t.replace('        net.ipv4.conf.all.rp_filter = 1\n', '        net.ipv4.conf.all.rp_filter = 1\n        net.ipv4.conf.all.log_martians = 1\n') });
    const r = run.world.exec('rs1', 'dmesg');
    expect(r.stdout).toMatch(/^\[\s+\d+\.\d{6}\] IPv4: martian source 172\.16\.29\.6 from 203\.0\.113\.10, on dev tunl0$/m);
    // tunl0 has no link-layer header: no "ll header" line after it.
    expect(r.stdout).not.toMatch(/ll header/);
    const quiet = runFile('scenarios/misconfig-rp-filter-all.yaml');
    expect(quiet.world.exec('rs1', 'dmesg').stdout).toBe('');
  });
});
