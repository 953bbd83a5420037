import { readFileSync } from 'node:fs';
import { runScenarioText, type Run } from '../../src/world/world';
import type { TraceRecord } from '../../src/trace/record';
import { ip4 } from '../../src/net/addr';

export const REF = 'scenarios/tun-different-subnets.yaml';

export function runFile(file: string, opts: { seed?: number; edit?: (text: string) => string } = {}): Run {
  let text = readFileSync(file, 'utf8');
  if (opts.edit) text = opts.edit(text);
  return runScenarioText(text, file, { seed: opts.seed });
}

export const CIP = ip4('203.0.113.10');
export const VIP = ip4('172.16.29.6');
export const DIP = ip4('172.16.69.15');
export const RIP1 = ip4('172.16.197.3');
export const RIP2 = ip4('192.168.134.5');

/** Records about IPv4 packets, with handy accessors. */
export function ipRecords(records: readonly TraceRecord[]): TraceRecord[] {
  return records.filter(r => r.packet.pkt.proto === 'ipv4');
}

export function drops(run: Run): TraceRecord[] {
  return run.world.records.filter(r => r.verdict === 'drop');
}
