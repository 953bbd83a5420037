import { Host } from '../../src/kernel/host';
import { Engine } from '../../src/sim/engine';
import { TraceLog } from '../../src/trace/sink';
import { splitLine } from '../../src/config/shell';
import { runCommand } from '../../src/config/commands';
import type { ToolContext, ToolResult } from '../../src/config/tool';
import { Ipvs } from '../../src/ipvs/ipvs';

/** A host with the given ethernet devices attached (carrier on), and a context for tools. */
export function makeHost(name = 'rs1', ethers: string[] = ['eth0'], files: Record<string, string> = {}): { host: Host; ctx: ToolContext } {
  const engine = new Engine(1);
  const host = new Host(name, engine, new TraceLog());
  for (const e of ethers) host.createDevice(e, 'ether').carrier = true;
  const ipvs = new Ipvs(engine, host.sysctl);
  const ctx: ToolContext = { host, ipvs, now: 0, files: new Map(Object.entries(files)) };
  return { host, ctx };
}

/** Run one shell line (its first simple command) on the context. */
export function sh(ctx: ToolContext, line: string): ToolResult {
  const s = splitLine(line);
  if (!s.ok) throw new Error(`bad line: ${line}`);
  return runCommand(s.commands[0], ctx);
}

/** Run lines, failing the test on the first non-zero exit. */
export function shAll(ctx: ToolContext, lines: readonly string[]): void {
  for (const l of lines) {
    const r = sh(ctx, l);
    if (r.exit !== 0) throw new Error(`${l}: exit ${r.exit}: ${r.stderr}`);
  }
}
