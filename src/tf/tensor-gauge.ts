import type { Metrics } from '../runtime/contracts/index.ts';
import { tf } from './tf.ts';

/** Per metrics registry (one per run): one timer however many plugins of the run track tensors. */
const samplers = new WeakMap<Metrics, { users: number; readonly timer: NodeJS.Timeout; readonly sample: () => void }>();

/**
 * Samples the TensorFlow.js tensors alive in this thread into `temi_tensors_alive` (once a second)
 * while a plugin that uses TensorFlow holds it, so only runs with such a plugin report it. Call
 * in start(), call the returned release in stop(). A leak shows as a count that keeps growing.
 */
export function trackTensors(metrics: Metrics): () => void {
  let entry = samplers.get(metrics);
  if (!entry) {
    const gauge = metrics.gauge('temi_tensors_alive', 'TensorFlow.js tensors alive in this process');
    const sample = () => gauge.set(tf.memory().numTensors);
    const timer = setInterval(sample, 1000);
    timer.unref();
    entry = { users: 0, timer, sample };
    samplers.set(metrics, entry);
  }
  const held = entry;
  held.users++;
  held.sample();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.sample();
    if (--held.users > 0) return;
    clearInterval(held.timer);
    samplers.delete(metrics);
  };
}
