import { describe, expect, it } from 'vitest';
import { PromMetrics } from '../runtime/services/prom-metrics.ts';
import { trackTensors } from './tensor-gauge.ts';
import { tf } from './tf.ts';

async function tensorsAlive(metrics: PromMetrics): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('temi_tensors_alive '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('trackTensors', () => {
  it('reports live tensors only once a plugin tracks them, and the count each holder sees', async () => {
    const metrics = new PromMetrics();
    expect(await tensorsAlive(metrics)).toBeUndefined();
    const releaseEmbed = trackTensors(metrics);
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    const weights = tf.ones([4, 4]);
    const releaseTrain = trackTensors(metrics);
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    weights.dispose();
    releaseEmbed();
    releaseEmbed();
    expect(await tensorsAlive(metrics)).toBe(tf.memory().numTensors);
    releaseTrain();
  });
});
