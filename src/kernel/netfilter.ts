/**
 * kernel/netfilter.ts: the five IPv4 hooks and the handlers registered on them, run in
 * priority order as nf_hook_slow does. Handlers return a verdict; a drop carries the reason.
 * The browser's hook view iterates the same registered list, so what is drawn is what runs.
 *
 *   --> PREROUTING --> [route] --> INPUT --> local     local --> OUTPUT --> [route] --> POSTROUTING -->
 *                         \--> FORWARD -----------------------------------------------/
 *
 * Priorities (include/uapi/linux/netfilter_ipv4.h): FILTER 0, NAT_DST -100, NAT_SRC 100;
 * IPVS ip_vs_in_hook sits at LOCAL_IN 99 (after the filter table), see tun-path.md §2.
 */
import type { DropReason, Hook } from './trace';
import type { Skb } from './skb';
import type { NetDevice } from './host';

export type NfVerdict = { verdict: 'accept' } | { verdict: 'stolen' } | { verdict: 'drop'; reason: DropReason };

export const NF_ACCEPT: NfVerdict = { verdict: 'accept' };
export const NF_STOLEN: NfVerdict = { verdict: 'stolen' };

export interface NfHookState {
  readonly hook: Hook;
  readonly in: NetDevice | null;
  readonly out: NetDevice | null;
}

export interface NfHookOps {
  readonly hook: Hook;
  readonly priority: number;
  /** The kernel function's name, shown in the hook view ("ip_vs_in_hook"). */
  readonly name: string;
  readonly fn: (skb: Skb, state: NfHookState) => NfVerdict;
}

export class Netfilter {
  private readonly ops = new Map<Hook, NfHookOps[]>();

  register(op: NfHookOps): void {
    const list = this.ops.get(op.hook) ?? [];
    list.push(op);
    list.sort((a, b) => a.priority - b.priority);
    this.ops.set(op.hook, list);
  }

  unregister(name: string, hook: Hook): void {
    const list = this.ops.get(hook);
    if (list) this.ops.set(hook, list.filter(o => o.name !== name));
  }

  /** Handlers on a hook, in the order they run. */
  handlers(hook: Hook): readonly NfHookOps[] {
    return this.ops.get(hook) ?? [];
  }

  /** nf_hook_slow: run handlers until one does not accept. */
  run(skb: Skb, state: NfHookState): NfVerdict {
    const list = this.ops.get(state.hook);
    if (!list) return NF_ACCEPT;
    for (const op of list) {
      const v = op.fn(skb, state);
      if (v.verdict !== 'accept') return v;
    }
    return NF_ACCEPT;
  }
}
