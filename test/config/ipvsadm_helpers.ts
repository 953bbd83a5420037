/**
 * Test helper for the ipvsadm tests: a director's IPVS (the real ipvs/ipvs.ts Ipvs on a fresh
 * engine) and a way to run command lines against it as a scenario would.
 */
import { Engine } from '../../src/sim/engine';
import { Ipvs } from '../../src/ipvs/ipvs';
import { Sysctls } from '../../src/kernel/sysctl';
import { splitLine, type Word } from '../../src/config/shell';
import type { ToolContext, ToolResult } from '../../src/config/tool';
import { ipvsadm } from '../../src/config/ipvsadm';
import type { Host } from '../../src/kernel/host';

export function words(line: string): Word[] {
  const r = splitLine(line);
  if (!r.ok) throw new Error(`cannot split: ${line}`);
  return r.commands[0]!.words;
}

export interface Director {
  readonly engine: Engine;
  readonly ipvs: Ipvs;
  ctx(stdin?: string): ToolContext;
  /** Run one `ipvsadm ...` line. */
  run(line: string, stdin?: string): ToolResult;
  /** Run a line that must succeed; returns stdout. */
  ok(line: string): string;
}

export function director(): Director {
  const engine = new Engine(1);
  const sysctl = new Sysctls();
  sysctl.loadIpvs();
  const ipvs = new Ipvs(engine, sysctl);
  const ctx = (stdin?: string): ToolContext => ({
    host: null as unknown as Host,
    ipvs,
    now: engine.now,
    files: new Map(),
    ...(stdin !== undefined ? { stdin } : {}),
  });
  const run = (line: string, stdin?: string): ToolResult => ipvsadm(words(line), ctx(stdin));
  return {
    engine,
    ipvs,
    ctx,
    run,
    ok(line) {
      const r = run(line);
      if (r.exit !== 0) throw new Error(`${line}: exit ${r.exit}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
