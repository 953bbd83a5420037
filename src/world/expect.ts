/**
 * world/expect.ts: a scenario's `expect:` lines against what its run did, for
 * `lvsim run --check` (and the lab's "is it fixed?"). Each expectation passes or says why not.
 */
import { formatIp4 } from '../net/addr';
import type { Expectation, Scenario } from '../config/scenario';
import type { Run } from './world';
import { clientOutcome } from './apps';

export interface ExpectationResult {
  readonly id: string;
  readonly expect: Expectation;
  readonly pass: boolean;
  /** What happened, in the words the run summary uses ("failed: ETIMEDOUT", "ok, answered by rs2"). */
  readonly got: string;
}

export function checkExpectations(run: Run): ExpectationResult[] {
  const sc = run.scenario;
  const clients = run.clients;
  const out: ExpectationResult[] = [];
  for (const t of sc.traffic) {
    if (t.kind !== 'connect' || t.expect === null) continue;
    const c = clients.find(x => x.id === t.id);
    const e = t.expect;
    if (!c) { out.push({ id: t.id, expect: e, pass: false, got: 'never started' }); continue; }
    const host = c.server === null ? null : serverHost(sc, c.server);
    const { verdict, text: got } = clientOutcome(c, host ?? c.server);
    let pass = verdict === (e.ok ? 'ok' : 'failed');
    if (pass && e.ok && e.rs !== null) pass = host === e.rs || c.server === e.rs || rsAddrs(run, host).includes(e.rs);
    if (pass && !e.ok && e.error !== null) pass = c.error === e.error;
    out.push({ id: t.id, expect: e, pass, got });
  }
  return out;
}

/** The connect steps that never started: a step before them had not finished when the run stopped. */
export function notStarted(run: Run): Array<Extract<Scenario['traffic'][number], { kind: 'connect' }>> {
  const started = new Set(run.clients.map(c => c.id));
  return run.scenario.traffic.filter((t): t is Extract<Scenario['traffic'][number], { kind: 'connect' }> => t.kind === 'connect' && !started.has(t.id));
}

/** "ok", "ok, answered by rs1", "fail", "fail with ETIMEDOUT". */
export function describeExpectation(e: Expectation): string {
  if (e.ok) return e.rs ? `ok, answered by ${e.rs}` : 'ok';
  return e.error ? `fail with ${e.error}` : 'fail';
}

/** The host whose listener greets with this name. */
function serverHost(sc: Scenario, server: string): string | null {
  for (const h of sc.hosts.values()) if (h.listen.some(l => l.name === server)) return h.name;
  return null;
}

/** The addresses configured on a host: the RIPs an expectation may name. */
function rsAddrs(run: Run, host: string | null): string[] {
  const wh = host === null ? undefined : run.world.hosts.get(host);
  return wh ? [...wh.host.allAddrs()].map(x => formatIp4(x.a.addr)) : [];
}
