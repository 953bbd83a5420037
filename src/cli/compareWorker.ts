/**
 * cli/compareWorker.ts: one worker thread of `lvsim compare`: runs the jobs it is sent
 * (workload/compare.ts runJob) and posts progress and results back.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runJob, type CompareJob } from '../workload/compare';

parentPort?.on('message', (msg: { id: number; job: CompareJob }) => {
  try {
    const result = runJob(msg.job, () => performance.now(), f => parentPort!.postMessage({ id: msg.id, progress: f }));
    parentPort!.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
