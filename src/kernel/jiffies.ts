/**
 * kernel/jiffies.ts: the kernel's tick. The modelled kernels run with HZ=250 (one jiffy is
 * 4 ms), as the recorded vectors' kernels do; timers that the kernel keeps in jiffies
 * (the retransmission timeout, the ICMP redirect rate limit) round to it.
 */
export const JIFFY_NS = 4_000_000;

/** usecs_to_jiffies (include/linux/jiffies.h): rounds up to a whole jiffy; returned in ns. */
export function usecsToJiffiesNs(us: number): number {
  return Math.ceil(us * 1000 / JIFFY_NS) * JIFFY_NS;
}
