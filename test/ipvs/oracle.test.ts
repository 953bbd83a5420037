/**
 * Replays the recorded Linux 6.1 vectors (test/fixtures/oracle/*.json) through the connection table:
 * each `connect` is a client SYN, ACK, ACK (greeting read), and for `close` FIN+ACK, ACK; a
 * `release` closes a held connection the same way. Every chosen real server, every `after`
 * counter triple [weight, ActiveConn, InActConn] and the final `ipvsadm -Lnc` (as a set of
 * protocol, state, source, virtual, destination) must match.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatIp4, ip4 } from '../../src/net/addr';
import { getScheduler } from '../../src/ipvs/schedulers/index';
import { Ipvs } from '../../src/ipvs/ipvs';
import { Engine, NS_PER_MS } from '../../src/sim/engine';
import { Sysctls } from '../../src/kernel/sysctl';
import type { Conn, ServiceKey } from '../../src/ipvs/ctl';

const ACK = 0x10, SYN = 0x02, FIN = 0x01;
const ORACLE = new URL('../fixtures/oracle/', import.meta.url);

interface Step {
  do: string;
  id?: string;
  src?: string;
  mode?: 'hold' | 'close';
  expect?: { ok: boolean; rs?: string };
  after?: Record<string, [number, number, number]>;
}
interface Vector {
  id: string;
  hosts: Record<string, { setup: string[] }>;
  steps: Step[];
  final: Record<string, string>;
}

const hp = (s: string): [number, number] => {
  const i = s.lastIndexOf(':');
  return [ip4(s.slice(0, i)), Number(s.slice(i + 1))];
};

function load(): Vector[] {
  return readdirSync(ORACLE)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(new URL(f, ORACLE), 'utf8')) as Vector);
}

function setup(ipvs: Ipvs, lines: string[]): { key: ServiceKey; sched: string } | null {
  let key: ServiceKey | null = null;
  let sched = '';
  for (const line of lines) {
    const w = line.split(/\s+/);
    if (w[0] !== 'ipvsadm') continue;
    const opt = (o: string) => (w.includes(o) ? w[w.indexOf(o) + 1]! : undefined);
    const [addr, port] = hp(opt('-t')!);
    const k: ServiceKey = { protocol: 'tcp', addr, port };
    if (w[1] === '-A') {
      sched = opt('-s') ?? 'wlc';
      if (getScheduler(sched) === null) return null;
      const p = opt('-p');
      ipvs.addService({ ...k, scheduler: sched, persistent: p === undefined ? undefined : Number(p) });
      key = k;
    } else if (w[1] === '-a') {
      const [raddr] = hp(opt('-r')!);
      ipvs.addDest(k, { addr: raddr, port, fwd: 'tunnel', weight: Number(opt('-w') ?? 1), uThreshold: 0, lThreshold: 0 });
    }
  }
  return key === null ? null : { key, sched };
}

const vectors = load();

describe('recorded Linux 6.1 vectors, replayed through the connection table', () => {
  it('finds the recorded vectors beside the project', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(7);
  });
  for (const v of vectors) {
    it(`${v.id}`, () => {
      const engine = new Engine(1);
      const sysctl = new Sysctls();
      sysctl.loadIpvs();
      const ipvs = new Ipvs(engine, sysctl);
      const s = setup(ipvs, v.hosts['director']!.setup);
      expect(s, `the scheduler of ${v.id} is registered`).not.toBeNull();
      if (s === null) return;
      const svc = ipvs.findService(s.key)!;
      const flows = new Map<string, [number, number]>();
      const packet = (caddr: number, cport: number, flags: number) => {
        engine.run(engine.now + 5 * NS_PER_MS);
        let cp: Conn | null = ipvs.connInGet(6, caddr, cport, svc.addr, svc.port);
        if (cp && flags & SYN && ipvs.isNewConnExpected(cp)) {
          ipvs.expireNow(cp);
          cp = null;
        }
        if (!cp) {
          const r = ipvs.schedule(svc, { saddr: caddr, daddr: svc.addr, sport: cport, dport: svc.port, protocol: 6 });
          if (!r.conn) return null;
          cp = r.conn;
        }
        ipvs.inStats(cp, 52);
        ipvs.setState(cp, flags);
        ipvs.connPut(cp);
        return cp;
      };
      for (const step of v.steps) {
        if (step.do === 'connect') {
          const [caddr, cport] = hp(step.src!);
          const cp = packet(caddr, cport, SYN);
          if (step.expect?.ok === false) {
            expect(cp).toBe(null);
            continue;
          }
          expect(cp).not.toBe(null);
          expect(formatIp4(cp!.daddr)).toBe(step.expect!.rs);
          packet(caddr, cport, ACK);
          packet(caddr, cport, ACK);
          if (step.mode === 'close') {
            packet(caddr, cport, FIN | ACK);
            packet(caddr, cport, ACK);
          } else flows.set(step.id!, [caddr, cport]);
        } else if (step.do === 'release') {
          const [caddr, cport] = flows.get(step.id!)!;
          packet(caddr, cport, FIN | ACK);
          packet(caddr, cport, ACK);
        } else {
          throw new Error(`step ${step.do} not replayed here`);
        }
        if (step.after) {
          const got: Record<string, [number, number, number]> = {};
          for (const d of svc.dests) got[`${formatIp4(d.addr)}:${d.port}`] = [d.weight, d.activeconns, d.inactconns];
          expect(got).toEqual(step.after);
        }
      }
      const lnc = v.final['ipvsadm-Lnc'];
      if (lnc !== undefined) {
        const want = lnc.split('\n').slice(2).map((l) => {
          const f = l.trim().split(/\s+/);
          return [f[0], f[2], f[3], f[4], f[5]].join(' ');
        });
        const have = ipvs.connections().map((c) =>
          [c.protocol, c.state, `${formatIp4(c.caddr)}:${c.cport}`, `${formatIp4(c.vaddr)}:${c.vport}`, `${formatIp4(c.daddr)}:${c.dport}`].join(' '),
        );
        expect(have.sort()).toEqual(want.sort());
      }
    });
  }
});
