/**
 * kernel/panic.ts: a host that crashes (`echo c > /proc/sysrq-trigger`: sysrq_handle_crash, a
 * kernel panic). Everything stops at once: every process is gone without running any handler
 * (what it configured stays, frozen). The NICs keep their carrier (the switch port stays up)
 * but no kernel code runs: a frame that arrives is taken by no one, nothing is sent, and a
 * neighbour's ARP for the host goes unanswered (netifReceive and devXmit, kernel/ip.ts, drop
 * with `host_crashed`). A timer of the frozen kernel that fires later (a TCP retransmission, an
 * ARP retry) still walks the output path in the model, and its packet is dropped at the device
 * (simplified: the real kernel runs no timer at all after a panic).
 * Booting again is a fresh kernel (world/faults.ts). Not modelled: kdump, panic=N auto-reboot.
 */
import type { Host } from './host';
import { procs, syslog } from './proc';

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
}

/** The kernel stops for good (a reboot's halt, after the orderly shutdown): as a crash, without the panic. */
export function halt(host: Host): void {
  if (host.crashed) return;
  host.crashed = true;
  const pt = procs(host);
  pt.killAll([...pt.procs.keys()], 'KILL');
}
