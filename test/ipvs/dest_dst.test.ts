/**
 * The destination's cached route (dest->dest_dst) and the source address bound to it: set by
 * the first ip_vs_tunnel_xmit through __ip_vs_get_out_rt, and reset by __ip_vs_update_dest
 * (net/netfilter/ipvs/ip_vs_ctl.c) when `ipvsadm -e` or `-a` changes the destination, so the
 * next packet routes afresh and picks the source the routing table now gives. A route change
 * makes the cached route obsolete too (fib_table_insert -> rt_cache_flush bumps the routes'
 * generation; dst_check fails in __ip_vs_get_out_rt, which looks up again).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenarioText } from '../../src/world/world';
import type { Ipv4 } from '../../src/net/packet';
import { formatIp4 } from '../../src/net/addr';
import { REF } from '../world/helpers';

const RS = '192.168.134.5';
const base = readFileSync(REF, 'utf8').replace(/traffic:[\s\S]*$/, '');

/** Three connections to rs2 only (rs1 at weight 0), with director commands between them. */
function runWith(between: string[]): ReturnType<typeof runScenarioText> {
  const lines = ['traffic:', `  - { exec: "ipvsadm -e -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 0", host: director }`];
  lines.push('  - { id: c1, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40001 }');
  for (const b of between) lines.push(`  - { exec: "${b}", host: director }`);
  lines.push('  - { id: c2, connect: 172.16.29.6:9001, from: client, src: 203.0.113.10:40002 }');
  return runScenarioText(base + lines.join('\n') + '\n', REF);
}

/** Outer source and the director's output route of each tunnelled SYN, in order. */
function tunnelledSyns(run: ReturnType<typeof runScenarioText>): Array<{ src: string; route: string }> {
  const recs = run.world.records;
  const out: Array<{ src: string; route: string }> = [];
  for (const r of recs) {
    if (r.host !== 'director' || r.point !== 'ipvs' || r.verdict !== 'encap') continue;
    const route = recs.find(x => x.seq > r.seq && x.packet.id === r.packet.id && x.host === 'director' && x.point === 'routing');
    out.push({ src: formatIp4((r.packet.pkt as Ipv4).src), route: route?.note ?? '' });
  }
  return out;
}

const NEW_SRC = [
  'ip addr add 172.16.69.16/24 dev eth0',
  `ip route add ${RS}/32 via 172.16.69.1 dev eth0 src 172.16.69.16`,
];

describe('__ip_vs_update_dest resets the destination\'s cached route', () => {
  it('after ipvsadm -e on the destination, the next packet routes afresh: new source, new route', () => {
    const run = runWith([...NEW_SRC, `ipvsadm -e -t 172.16.29.6:9001 -r ${RS}:9001 -i -w 1`]);
    expect(run.notApplied).toEqual([]);
    const syns = tunnelledSyns(run);
    expect(syns[0]).toEqual({ src: '172.16.69.15', route: `${RS} via 172.16.69.1 dev eth0 src 172.16.69.15` });
    expect(syns.at(-1)).toEqual({ src: '172.16.69.16', route: `${RS} via 172.16.69.1 dev eth0 src 172.16.69.16` });
    expect(run.clients.map(c => c.ok)).toEqual([true, true]);
  });
});

describe('a route change makes the cached route obsolete (rt_genid)', () => {
  it('without ipvsadm -e, the next packet after ip route add follows the new route and its source', () => {
    const run = runWith(NEW_SRC);
    expect(run.notApplied).toEqual([]);
    const syns = tunnelledSyns(run);
    expect(syns[0]).toEqual({ src: '172.16.69.15', route: `${RS} via 172.16.69.1 dev eth0 src 172.16.69.15` });
    expect(syns.at(-1)).toEqual({ src: '172.16.69.16', route: `${RS} via 172.16.69.1 dev eth0 src 172.16.69.16` });
    expect(run.clients.map(c => c.ok)).toEqual([true, true]);
  });

  it('with no route change between connections, the source bound by the first packet stays', () => {
    const run = runWith([]);
    const srcs = new Set(tunnelledSyns(run).map(s => s.src));
    expect([...srcs]).toEqual(['172.16.69.15']);
  });
});
