/**
 * kernel/panic.ts: a host that crashes (`echo c > /proc/sysrq-trigger`: sysrq_handle_crash, a
 * kernel panic). Everything stops at once: every process is gone without running any handler
 * (what it configured stays, frozen). The NICs keep their carrier (the switch port stays up)
 * but no kernel code runs: a frame that arrives is taken by no one, nothing is sent, and a
 * neighbour's ARP for the host goes unanswered (netifReceive and devXmit, kernel/ip.ts, drop
 * with `host_crashed`). No timer of the frozen kernel runs (a TCP retransmission, an ARP retry:
 * their handlers look at `crashed`), and the packets it held waiting for ARP die with it.
 * Booting again is a fresh kernel (world/faults.ts). Not modelled: kdump, panic=N auto-reboot.
 */
import type { Host } from './host';
import { procs, syslog } from './proc';
import { SILENT, devPoint } from '../trace/record';

export function isCrashed(host: Host): boolean {
  return host.crashed;
}

/** sysrq 'c': panic now. */
export function panic(host: Host, why: string): void {
  if (host.crashed) return;
  syslog(host, 'kernel', 0, `Kernel panic - not syncing: ${why}`);
  host.crashed = true;
  host.emit.event({ kind: 'host', op: 'crash' });
  const pt = procs(host);
  pt.killAll([...pt.procs.keys()], 'KILL');
  dropHeldPackets(host, 'lost with the kernel');
}

/** The packets a stopped kernel held on unresolved neighbours go with its memory: they end here. */
export function dropHeldPackets(host: Host, note: string): void {
  for (const [, e] of host.neigh) {
    for (const skb of e.queue) host.emit.drop(skb, devPoint(e.dev), { code: 'host_crashed', host: host.name, dev: e.dev }, SILENT, note);
    e.queue = [];
  }
}

/** The kernel stops for good (a reboot's halt, after the orderly shutdown): as a crash, without the panic. */
export function halt(host: Host): void {
  if (host.crashed) return;
  host.crashed = true;
  const pt = procs(host);
  pt.killAll([...pt.procs.keys()], 'KILL');
}
