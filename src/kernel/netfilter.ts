/**
 * kernel/netfilter.ts: the five IPv4 hooks and the handlers registered on them, run in
 * priority order as nf_hook_slow does. Handlers return a verdict; a drop carries the reason.
 * The browser's hook view iterates the same registered list, so what is drawn is what runs.
 *
 *   --> PREROUTING --> [route] --> INPUT --> local     local --> OUTPUT --> [route] --> POSTROUTING -->
 *                         \--> FORWARD -----------------------------------------------/
 *
 * Priorities (include/uapi/linux/netfilter_ipv4.h): FILTER 0, NAT_DST -100, NAT_SRC 100;
 * IPVS ip_vs_in_hook sits at LOCAL_IN 99 (after the filter table): NF_IP_PRI_NAT_SRC - 1 in
 * ip_vs_ops4 (net/netfilter/ipvs/ip_vs_core.c).
 */
import type { DropReason, Hook } from '../trace/record';
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
  /** Hooks with at least one handler: the packet path skips the others without a lookup. */
  private readonly used = new Set<Hook>();

  register(op: NfHookOps): void {
    const list = this.ops.get(op.hook) ?? [];
    list.push(op);
    list.sort((a, b) => a.priority - b.priority);
    this.ops.set(op.hook, list);
    this.used.add(op.hook);
  }

  unregister(name: string, hook: Hook): void {
    const list = this.ops.get(hook);
    if (!list) return;
    const rest = list.filter(o => o.name !== name);
    this.ops.set(hook, rest);
    if (rest.length === 0) this.used.delete(hook);
  }

  /** Does any handler sit on this hook? */
  has(hook: Hook): boolean {
    return this.used.has(hook);
  }

  /** Handlers on a hook, in the order they run. */
  handlers(hook: Hook): readonly NfHookOps[] {
    return this.ops.get(hook) ?? [];
  }

  /**
   * One hook state per nesting depth, reused: a handler may send a packet through other hooks
   * (REJECT, IPVS's tunnel), so each depth keeps its own, and no packet allocates one.
   */
  private readonly states: Array<{ hook: Hook; in: NetDevice | null; out: NetDevice | null }> = [];
  private depth = 0;

  /** nf_hook_slow: run handlers until one does not accept (nf_hook's empty-list fast path first). */
  run(skb: Skb, hook: Hook, inDev: NetDevice | null, outDev: NetDevice | null): NfVerdict {
    if (!this.used.has(hook)) return NF_ACCEPT;
    let state = this.states[this.depth];
    if (state === undefined) this.states[this.depth] = state = { hook, in: inDev, out: outDev };
    else { state.hook = hook; state.in = inDev; state.out = outDev; }
    this.depth++;
    try {
      const ops = this.ops.get(hook)!;
      for (let i = 0; i < ops.length; i++) {
        const v = ops[i].fn(skb, state);
        if (v.verdict !== 'accept') return v;
      }
      return NF_ACCEPT;
    } finally {
      this.depth--;
    }
  }
}
