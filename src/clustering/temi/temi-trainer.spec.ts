import { beforeAll, describe, expect, it } from 'vitest';
import { isTemiError } from '../../runtime/errors.ts';
import { tf } from '../../tf/tf.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { BLOB_CLUSTERS, BLOB_DIM, blobs } from '../../../test/support/blob-window.ts';
import { decodeFloat32 } from '../float-codec.ts';
import { headDimensions, parameterSpecs, sizeOf } from './head-layout.ts';
import { initialHeadValues } from './head-init.ts';
import { type TemiConfig, resolveTemiConfig } from './temi-config.ts';
import { deserializeTemiModel } from './temi-model.ts';
import { TemiTrainer } from './temi-trainer.ts';
import type { TemiTrainerSnapshot } from './trainer-snapshot.ts';
import { throughSnapshotFiles } from '../../../test/support/snapshot-round-trip.ts';

const DIM = BLOB_DIM;
const CLUSTERS = BLOB_CLUSTERS;
/** Small enough for the cpu backend; the schedule is the reference's apart from sizes and lr. */
const SMALL: Partial<TemiConfig> = {
  heads: 2,
  clusters: CLUSTERS,
  hidden: 64,
  bottleneck: 32,
  batchSize: 64,
  learningRate: 1e-2,
  warmupEpochs: 1,
  seed: 1,
};

/** Accuracy under the best renaming of the 3 clusters (3! permutations, tried exhaustively). */
function bestPermutationAccuracy(predicted: Int32Array, labels: Int32Array): number {
  const permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  let best = 0;
  for (const p of permutations) {
    let hits = 0;
    for (let i = 0; i < labels.length; i++) if (p[predicted[i]] === labels[i]) hits++;
    best = Math.max(best, hits / labels.length);
  }
  return best;
}

function parameter(snapshot: TemiTrainerSnapshot, network: 'student' | 'teacher', name: 'w1' | 'v' | 'g'): Float32Array {
  const specs = parameterSpecs(headDimensions(resolveTemiConfig(SMALL), DIM));
  return decodeFloat32(snapshot.core![network][name], sizeOf(specs[name].shape), name);
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('TemiTrainer', () => {
  const data = blobs(300, 7);

  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('separates three well-separated Gaussian blobs (ACC >= 0.9) and uses every cluster', async () => {
    const trainer = new TemiTrainer(SMALL);
    const reports: number[] = [];
    const result = await trainer.trainRound(data, { epochs: 20, onEpoch: (r) => reports.push(r.meanLoss) });
    const { cluster, confidence } = result.model.assign(data.embeddings, data.count);
    expect(bestPermutationAccuracy(cluster, data.labels)).toBeGreaterThanOrEqual(0.9);
    expect(new Set(cluster).size).toBe(CLUSTERS);
    expect(confidence.every((p) => p >= 1 / CLUSTERS && p <= 1)).toBe(true);
    expect(reports).toHaveLength(20);
    expect(reports[19]).toBeLessThan(reports[0]);
    expect(result.samples).toBe(20 * 4 * 64);
    result.model.dispose();
    trainer.dispose();
  });

  it('keeps the last layer frozen during the trainer\'s first epoch only, not every round', async () => {
    const trainer = new TemiTrainer(SMALL);
    const initial = initialHeadValues(headDimensions(trainer.config, DIM), new SeededRandom(SMALL.seed!));
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const afterFirst = trainer.snapshot();
    expect(maxAbsDifference(parameter(afterFirst, 'student', 'v'), initial.v)).toBe(0);
    expect(parameter(afterFirst, 'student', 'g').every((g) => g === 1)).toBe(true);
    expect(maxAbsDifference(parameter(afterFirst, 'student', 'w1'), initial.w1)).toBeGreaterThan(0);
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const afterSecond = trainer.snapshot();
    expect(maxAbsDifference(parameter(afterSecond, 'student', 'v'), initial.v)).toBeGreaterThan(0);
    expect(parameter(afterSecond, 'student', 'g').some((g) => g !== 1)).toBe(true);
    trainer.dispose();
  });

  it('moves the teacher as an EMA of the student (0.996 teacher + 0.004 student after a step)', async () => {
    // No warm-up: the reference's warm-up starts at lr 0, which would make the first step a no-op.
    const trainer = new TemiTrainer({ ...SMALL, batchSize: 300, warmupEpochs: 0 });
    const initial = initialHeadValues(headDimensions(trainer.config, DIM), new SeededRandom(SMALL.seed!));
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    expect(trainer.stepsTaken).toBe(1);
    const snapshot = trainer.snapshot();
    const student = parameter(snapshot, 'student', 'w1');
    const teacher = parameter(snapshot, 'teacher', 'w1');
    expect(maxAbsDifference(student, initial.w1)).toBeGreaterThan(1e-4);
    const expected = initial.w1.map((w, i) => 0.996 * w + 0.004 * student[i]);
    expect(maxAbsDifference(teacher, expected)).toBeLessThan(1e-6);
    trainer.dispose();
  });

  it('rolls back a round whose loss turns non-finite, and the previous model keeps serving', async () => {
    const trainer = new TemiTrainer(SMALL);
    const first = await trainer.trainRound(data, { epochs: 2 });
    const before = trainer.snapshot();
    const servedBefore = first.model.assign(data.embeddings, data.count);
    const tensorsBefore = tf.memory().numTensors;
    const poisoned = { ...data, embeddings: data.embeddings.map((v, i) => (i === 5 ? Number.NaN : v)) };
    const failure = await trainer.trainRound(poisoned, { epochs: 2 }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_NON_FINITE_LOSS');
    expect(trainer.snapshot()).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(first.model.assign(data.embeddings, data.count)).toEqual(servedBefore);
    first.model.dispose();
    trainer.dispose();
  });

  it('leaks no tensors across a round: only the returned model holds new ones', async () => {
    const trainer = new TemiTrainer(SMALL);
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainer.trainRound(data, { epochs: 2 });
    result.model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore - 25); // 6 student + 6 teacher + marginal + 12 moments
  });

  it('restores a snapshot into a fresh trainer that then trains exactly like the original', async () => {
    const original = new TemiTrainer(SMALL);
    (await original.trainRound(data, { epochs: 2 })).model.dispose();
    const snapshot = await throughSnapshotFiles(original.snapshot());
    const copy = new TemiTrainer(SMALL);
    copy.restore(snapshot);
    expect(copy.snapshot()).toEqual(snapshot);
    const a = await original.trainRound(data, { epochs: 1 });
    const b = await copy.trainRound(data, { epochs: 1 });
    expect(b.meanLoss).toBe(a.meanLoss);
    expect(copy.snapshot()).toEqual(original.snapshot());
    for (const r of [a, b]) r.model.dispose();
    original.dispose();
    copy.dispose();
  });

  it('stops on abort with a coded error and leaves its state as before the round', async () => {
    const trainer = new TemiTrainer(SMALL);
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const before = trainer.snapshot();
    const controller = new AbortController();
    const failure = await trainer
      .trainRound(data, { epochs: 3, onEpoch: () => controller.abort(), signal: controller.signal })
      .catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_ABORTED');
    expect(trainer.snapshot()).toEqual(before);
    trainer.dispose();
  });

  it('serves a model that survives serialisation and can rename its clusters', async () => {
    const trainer = new TemiTrainer({ ...SMALL, standardize: true });
    const { model } = await trainer.trainRound(data, { epochs: 3 });
    const served = model.assign(data.embeddings, data.count);
    const copy = deserializeTemiModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(copy.assign(data.embeddings, data.count)).toEqual(served);
    const renamed = model.withPermutation(Int32Array.from([2, 0, 1]));
    const relabelled = renamed.assign(data.embeddings, data.count);
    expect(Array.from(relabelled.cluster)).toEqual(Array.from(served.cluster, (c) => [2, 0, 1][c]));
    expect(relabelled.confidence).toEqual(served.confidence);
    expect(() => model.withPermutation(Int32Array.from([0, 0, 1]))).toThrow(/TS_ERR_MODEL_PERMUTATION_INVALID/);
    for (const m of [model, copy, renamed]) m.dispose();
    trainer.dispose();
  });

  it('runs more epochs on a small window to reach minSteps, and rejects a bad minSteps', async () => {
    const trainer = new TemiTrainer(SMALL);
    // 300 rows at batch 64: 4 steps per epoch, so 10 steps take 3 epochs
    const result = await trainer.trainRound(data, { epochs: 1, minSteps: 10 });
    expect(result.epochs).toBe(3);
    expect(trainer.stepsTaken).toBe(12);
    expect(result.samples).toBe(12 * 64);
    result.model.dispose();
    const bad = await trainer.trainRound(data, { epochs: 1, minSteps: -1 }).catch((error: unknown) => error);
    expect(isTemiError(bad) && `${bad.code} ${bad.where}`).toBe('TS_ERR_TRAIN_OPTIONS_INVALID temi.minSteps');
    expect(trainer.stepsTaken).toBe(12);
    trainer.dispose();
  });

  it('rejects a configuration value out of range with a coded error naming the field', () => {
    expect(() => new TemiTrainer({ beta: 0.4 })).toThrow(/TS_ERR_TEMI_CONFIG_INVALID: beta/);
  });
});
