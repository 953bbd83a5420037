/**
 * world/steps.ts: label trace records with the five steps of the TUN flow (tun-path.md §1),
 * from the packet's headers and where it is:
 *   1 the client's request CIP -> VIP on its way to and into the director, up to IPVS;
 *   2 IPVS looks the connection up or schedules it;
 *   3 the encapsulated DIP -> RIP packet, from the director's encapsulation to the real server's wire;
 *   4 on the real server: decapsulation onto tunl0 and delivery to the socket on the VIP;
 *   5 the reply VIP -> CIP from the real server straight to the client.
 */
import type { Ip4 } from '../net/addr';
import { IPPROTO_IPIP } from '../net/packet';
import type { TraceRecord } from '../kernel/trace';

export interface StepContext {
  /** Virtual service addresses (VIPs). */
  readonly vips: ReadonlySet<Ip4>;
  /** Hosts with IPVS services (directors) and hosts that serve a VIP (real servers). */
  readonly directors: ReadonlySet<string>;
  readonly realServers: ReadonlySet<string>;
}

export function stepOf(r: TraceRecord, ctx: StepContext): 1 | 2 | 3 | 4 | 5 | undefined {
  const p = r.packet.pkt;
  if (p.proto !== 'ipv4') return undefined;
  if (p.protocol === IPPROTO_IPIP && p.payload.proto === 'ipv4' && ctx.vips.has(p.payload.dst)) {
    if (ctx.directors.has(r.host) && r.point === 'ipvs') return 3;
    if (ctx.realServers.has(r.host) && r.verdict !== 'tx' && r.verdict !== 'rx') return 4;
    return 3;
  }
  if (ctx.vips.has(p.dst) && p.payload.proto === 'tcp') {
    if (ctx.realServers.has(r.host)) return 4;
    if (ctx.directors.has(r.host) && r.point === 'ipvs') return r.verdict === 'encap' ? 3 : 2;
    return 1;
  }
  if (ctx.vips.has(p.src) && p.payload.proto === 'tcp' && !ctx.directors.has(r.host)) return 5;
  return undefined;
}

export function annotateSteps(records: TraceRecord[], ctx: StepContext, from = 0): void {
  for (let i = from; i < records.length; i++) {
    const r = records[i];
    if (r.step === undefined) {
      const s = stepOf(r, ctx);
      if (s !== undefined) r.step = s;
    }
  }
}
