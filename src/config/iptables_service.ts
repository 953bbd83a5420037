/**
 * config/iptables_service.ts: the iptables service of Red Hat's iptables-services
 * (/usr/libexec/iptables/iptables.init): start and restart flush every loaded table, set the
 * built-in policies to ACCEPT and load /etc/sysconfig/iptables with iptables-restore; stop
 * flushes and leaves every policy ACCEPT. A missing file or a restore error fails the unit.
 */
import type { FileError, ToolContext } from './tool';
import { xtOf } from '../kernel/xtables';
import { iptablesRestoreText, restoreFileError } from './iptables';

export const IPTABLES_DATA = '/etc/sysconfig/iptables';

/** iptables.init stop: flush_n_delete and set_policy ACCEPT on every loaded table. */
function flushAll(ctx: ToolContext): void {
  const xt = xtOf(ctx.host);
  for (const t of xt.loadOrder()) {
    for (const c of t.chains) { c.rules = []; c.policy = 'ACCEPT'; }
    for (let i = t.chains.length - 1; i >= 0; i--) if (t.chains[i].hook === null) t.chains.splice(i, 1);
  }
  xt.commit();
}

export function iptablesService(ctx: ToolContext, verb: string): { stderr: string; failed: boolean; fileErrors?: readonly FileError[] } {
  flushAll(ctx);
  if (verb === 'stop') return { stderr: '', failed: false };
  const data = ctx.files.get(IPTABLES_DATA);
  if (data === undefined) return { stderr: 'iptables: No config file. [WARNING]\n', failed: true };
  const r = iptablesRestoreText(ctx.host, data);
  if (!r.ok) {
    const stderr = `iptables: Applying firewall rules: ${r.stderr.replace(/\n$/, '')} [FAILED]\n`;
    return { stderr: `${stderr}${IPTABLES_DATA}:${r.line}:1: error: this line was refused\n`, failed: true, fileErrors: [restoreFileError(IPTABLES_DATA, data, r.line ?? 1, stderr)] };
  }
  return { stderr: '', failed: false };
}
