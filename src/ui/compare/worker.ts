/**
 * ui/compare/worker.ts: a Web Worker running comparison jobs and diffs with the same core the
 * CLI uses (workload/compare.ts), so the browser's numbers are the CLI's numbers.
 */
import { diffSchedulers, runJob, type CompareJob } from '../../workload/compare';

export type WorkerRequest =
  | { id: number; kind: 'run'; job: CompareJob }
  | { id: number; kind: 'diff'; text: string; file: string; a: string; b: string; conn?: number; seed?: number };

self.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const m = ev.data;
  try {
    if (m.kind === 'run') {
      const result = runJob(m.job, () => performance.now(), f => postMessage({ id: m.id, progress: f }));
      postMessage({ id: m.id, result });
    } else {
      postMessage({ id: m.id, diff: diffSchedulers(m.text, m.file, m.a, m.b, { conn: m.conn, seed: m.seed }) });
    }
  } catch (e) {
    postMessage({ id: m.id, error: (e as Error).message });
  }
};
