import type { Metrics } from '../runtime/contracts/index.ts';
import { emitEvent } from '../runtime/workers/serve-requests.ts';
import { tf } from './tf.ts';

/** Event a worker with a TensorFlow.js engine of its own sends with its live tensor count (reportTensors). */
export const TENSORS_EVENT = 'tensors';

/** A thread whose engine this one cannot read: its last reported count (undefined before the first). */
interface WorkerTensors {
  readonly thread: string;
  readonly alive: () => number | undefined;
}

interface Sampler {
  users: number;
  readonly workers: Set<WorkerTensors>;
  readonly timer: NodeJS.Timeout;
  readonly sample: () => void;
}

/** Per metrics registry (one per run): one timer however many plugins of the run track tensors. */
const samplers = new WeakMap<Metrics, Sampler>();

/**
 * Samples the TensorFlow.js tensors alive into `temi_tensors_alive{thread}` (once a second) while
 * a plugin that uses TensorFlow holds it, so only runs with such a plugin report it: this thread's
 * engine as thread="main", and each worker registered with trackWorkerTensors (thread="embed",
 * "training") from the counts it reports; workers of the same kind are summed. Call in start(),
 * call the returned release in stop(). A leak shows as a count that keeps growing.
 */
export function trackTensors(metrics: Metrics): () => void {
  return hold(metrics, undefined);
}

/**
 * Adds a worker thread's engine to `temi_tensors_alive`, as `thread`: `alive` gives the count the
 * worker last reported (reportTensors in the worker, sent as TENSORS_EVENT). Release in stop().
 */
export function trackWorkerTensors(metrics: Metrics, thread: string, alive: () => number | undefined): () => void {
  return hold(metrics, { thread, alive });
}

function hold(metrics: Metrics, worker: WorkerTensors | undefined): () => void {
  let entry = samplers.get(metrics);
  if (!entry) {
    const gauge = metrics.gauge('temi_tensors_alive', 'TensorFlow.js tensors alive, by thread (main: the pipeline\'s; embed, training: their workers\' own engines, as last reported)', ['thread']);
    const workers = new Set<WorkerTensors>();
    const sample = () => {
      gauge.set(tf.memory().numTensors, { thread: 'main' });
      const byThread = new Map<string, number>();
      for (const w of workers) {
        const alive = w.alive();
        if (alive !== undefined) byThread.set(w.thread, (byThread.get(w.thread) ?? 0) + alive);
      }
      for (const [thread, alive] of byThread) gauge.set(alive, { thread });
    };
    const timer = setInterval(sample, 1000);
    timer.unref();
    entry = { users: 0, workers, timer, sample };
    samplers.set(metrics, entry);
  }
  const held = entry;
  held.users++;
  if (worker) held.workers.add(worker);
  held.sample();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.sample();
    if (worker) held.workers.delete(worker);
    if (--held.users > 0) return;
    clearInterval(held.timer);
    samplers.delete(metrics);
  };
}

let lastReported: number | undefined;

/** In a worker with its own engine: sends its live tensor count to the owning thread when it changed since the last report. */
export function reportTensors(): void {
  const alive = tf.memory().numTensors;
  if (alive === lastReported) return;
  lastReported = alive;
  emitEvent(TENSORS_EVENT, alive);
}

/** In a worker with its own engine, once it has loaded: reports now and then once a second (a message only when the count changed). */
export function startTensorReports(everyMs = 1000): void {
  reportTensors();
  setInterval(reportTensors, everyMs).unref();
}
