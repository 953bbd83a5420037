/**
 * kernel/panic.ts: a host that crashes (`echo c > /proc/sysrq-trigger`: sysrq_handle_crash, a
 * kernel panic). Everything stops at once: every process is gone without running any handler
 * (what it configured stays, frozen), and the NICs neither send nor receive, so the host
 * vanishes from its links. What the frozen kernel still holds is never sent: a timer that fires
 * later (a TCP retransmission) meets a device that is down.
 * Not modelled: booting again (a fresh kernel running the setup lines); kdump.
 */
import type { Host } from './host';
import { procs, syslog } from './proc';

const crashed = new WeakSet<Host>();

export function isCrashed(host: Host): boolean {
  return crashed.has(host);
}

/** sysrq 'c': panic now. */
export function panic(host: Host, why: string): void {
  if (crashed.has(host)) return;
  syslog(host, 'kernel', 0, `Kernel panic - not syncing: ${why}`);
  crashed.add(host);
  const pt = procs(host);
  pt.killAll([...pt.procs.keys()], 'KILL');
  for (const d of host.devices.values()) {
    // The NIC stops: no frame in or out (the state is frozen, not torn down: no route flush).
    d.up = false;
    d.carrier = false;
  }
}
