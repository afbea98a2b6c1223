import { beforeAll, describe, expect, it } from 'vitest';
import { isTemiError } from '../../runtime/errors.ts';
import { loadBackend } from '../../tf/backends.ts';
import { tf } from '../../tf/tf.ts';
import { BAR_CLASSES, barImages } from '../../../test/support/bar-images.ts';
import { throughSnapshotFiles } from '../../../test/support/snapshot-round-trip.ts';
import { clusteringAccuracy } from '../metrics/index.ts';
import { deserializeClusterModel } from '../model-codec.ts';
import { createTrainer } from '../trainer-factory.ts';
import { type MmdcOptions, resolveMmdcConfig } from './mmdc-config.ts';
import { type MmdcDraws, SEEDED_MMDC_DRAWS } from './mmdc-draws.ts';
import { MmdcModel } from './mmdc-model.ts';
import { MmdcTrainer } from './mmdc-trainer.ts';

/** Narrow trunk and small batches: the 16x16 bars train in a second or two on native TensorFlow. */
const SMALL: MmdcOptions = { clusters: BAR_CLASSES, widths: [8, 16, 16, 32], batchSize: 32, rotationEvery: 2, refineFraction: 0.25, seed: 3 };
const data = barImages(240, 11);

function codeOf(fn: () => unknown): string | false {
  try {
    fn();
  } catch (error) {
    return isTemiError(error) && `${error.code} ${String(error.details?.where ?? (error as { where?: string }).where ?? '')} ${error.message}`;
  }
  return false;
}

beforeAll(async () => {
  await loadBackend('tensorflow');
});

describe('MMDC options', () => {
  it.each<[MmdcOptions, string, string]>([
    [{ trunk: 'vgg' as never }, 'TS_ERR_MMDC_CONFIG_INVALID', 'trunk'],
    [{ clusters: 1 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'clusters'],
    [{ clusters: 10, outputDim: 5 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'outputDim'],
    [{ widths: [8, 16] }, 'TS_ERR_MMDC_CONFIG_INVALID', 'widths'],
    [{ sigma: -1 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'sigma'],
    [{ domain: 'colour' as never }, 'TS_ERR_MMDC_CONFIG_INVALID', 'domain'],
    [{ refineFraction: 1 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'refineFraction'],
    [{ crops: [0] }, 'TS_ERR_MMDC_CONFIG_INVALID', 'crops'],
    [{ imageShape: [28, 28, 2] }, 'TS_ERR_MMDC_CONFIG_INVALID', 'imageShape'],
    [{ learningRate: 0 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'learningRate'],
    [{ decayFraction: 1.5 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'decayFraction'],
    [{ decayFactor: 0 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'decayFactor'],
    [{ restarts: 0 }, 'TS_ERR_MMDC_CONFIG_INVALID', 'restarts'],
    [{ heads: 4 } as never, 'TS_ERR_MMDC_CONFIG_UNKNOWN', 'heads'],
  ])('refuses %j with a code naming the option', (options, code, where) => {
    const failure = codeOf(() => resolveMmdcConfig(options));
    expect(failure).toContain(code);
    expect(failure).toContain(where);
  });

  it('fills domain defaults from the trunk (resnet18 -> natural crops) and d = clusters', () => {
    const config = resolveMmdcConfig({ trunk: 'resnet18', clusters: 7 });
    expect(config.domain).toBe('natural');
    expect(config.crops).toEqual([20 / 32]);
    expect(config.outputDim).toBe(7);
  });

  it('refuses a window whose rows do not fill the configured image shape', async () => {
    const trainer = new MmdcTrainer({ ...SMALL, imageShape: [28, 28, 1] });
    const failure = await trainer.trainRound(data, { epochs: 1 }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_MMDC_IMAGE_SHAPE');
    expect(String(failure)).toMatch(/784 values, but the window's rows have 256/);
  });

  it('refuses the rotation task on non-square images, and trains them with it off', async () => {
    const rows = { ...data, dim: 8 * 32 };
    const trainer = new MmdcTrainer({ ...SMALL, imageShape: [8, 32, 1] });
    const failure = await trainer.trainRound(rows, { epochs: 1 }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_MMDC_CONFIG_INVALID');
    const off = new MmdcTrainer({ ...SMALL, imageShape: [8, 32, 1], rotation: false });
    const result = await off.trainRound(rows, { epochs: 1 });
    expect(result.model.assign(rows.embeddings, rows.count).cluster).toHaveLength(rows.count);
    result.model.dispose();
    off.dispose();
  });
});

describe('MmdcTrainer', () => {
  it('finds the three shapes from raw pixels, and the factory builds the same trainer', async () => {
    const trainer = createTrainer('mmdc', { clusters: BAR_CLASSES, seed: 3, batchSize: 32, options: { widths: [8, 16, 16, 32], rotationEvery: 2, refineFraction: 0.25 } });
    expect(trainer).toBeInstanceOf(MmdcTrainer);
    const result = await trainer.trainRound(data, { epochs: 8 });
    const { cluster, confidence } = result.model.assign(data.embeddings, data.count);
    expect(clusteringAccuracy(data.labels, cluster)).toBeGreaterThanOrEqual(0.95);
    expect(confidence.every((c) => c > 0 && c <= 1)).toBe(true);
    expect(result.samples).toBe(8 * data.count + 4 * 4 * data.count);
    result.model.dispose();
    trainer.dispose();
  });

  it('warm-starts: a second round starts where the first ended, not from scratch', async () => {
    const trainer = new MmdcTrainer({ ...SMALL, refineFraction: 0 });
    (await trainer.trainRound(data, { epochs: 6 })).model.dispose();
    const first = trainer.lastRoundLosses;
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const fresh = new MmdcTrainer({ ...SMALL, refineFraction: 0 });
    (await fresh.trainRound(data, { epochs: 1 })).model.dispose();
    expect(trainer.lastRoundLosses[0].clustering).toBeLessThan(fresh.lastRoundLosses[0].clustering / 2);
    expect(trainer.lastRoundLosses[0].clustering).toBeLessThan(first[0].clustering);
    trainer.dispose();
    fresh.dispose();
  });

  it('decays the learning rate over the last decayFraction of a round, and a next round starts at the full rate', async () => {
    let initial: Record<string, Float32Array> = {};
    const capturing: MmdcDraws = { ...SEEDED_MMDC_DRAWS, initialParameters: (layout, random) => (initial = SEEDED_MMDC_DRAWS.initialParameters(layout, random)) };
    const head = (t: MmdcTrainer): Float32Array => Float32Array.from(t.snapshot().core!.params['head.w'] as ArrayLike<number>);
    const change = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const options: MmdcOptions = { ...SMALL, rotation: false, refineFraction: 0 };
    // Decayed to ~0 over the whole round: the head stays where it started; undecayed, it moves.
    const frozen = new MmdcTrainer({ ...options, decayFraction: 1, decayFactor: 1e-9 }, capturing);
    (await frozen.trainRound(data, { epochs: 2 })).model.dispose();
    expect(change(head(frozen), initial['head.w'])).toBeLessThan(1e-6);
    const moving = new MmdcTrainer(options);
    (await moving.trainRound(data, { epochs: 2 })).model.dispose();
    expect(change(head(moving), initial['head.w'])).toBeGreaterThan(1e-2);
    // The next round is not decayed from its start: its first epoch moves the head again.
    const after = head(frozen);
    (await frozen.trainRound(data, { epochs: 1 })).model.dispose();
    expect(change(head(frozen), after)).toBeLessThan(1e-6);
    const halfway = new MmdcTrainer({ ...options, decayFraction: 0.5, decayFactor: 1e-9 });
    (await halfway.trainRound(data, { epochs: 2 })).model.dispose();
    const decayedEnd = head(halfway);
    (await halfway.trainRound(data, { epochs: 2 })).model.dispose();
    expect(change(head(halfway), decayedEnd)).toBeGreaterThan(1e-2);
    for (const t of [frozen, moving, halfway]) t.dispose();
  });

  it('with restarts, a cold round keeps the start with the lowest final loss and warm rounds train only it', async () => {
    const before = tf.memory().numTensors;
    const options: MmdcOptions = { ...SMALL, rotation: false };
    const single = new MmdcTrainer(options);
    const one = await single.trainRound(data, { epochs: 2 });
    const restarted = new MmdcTrainer({ ...options, restarts: 3 });
    const three = await restarted.trainRound(data, { epochs: 2 });
    const losses = restarted.lastRoundRestartLosses;
    expect(losses).toHaveLength(3);
    // The first start is the single start with the configured seed; the others differ from it.
    expect(losses[0]).toBeCloseTo(single.lastRoundRestartLosses[0], 5);
    expect(new Set(losses.map((l) => l.toFixed(6))).size).toBe(3);
    expect(three.meanLoss).toBe(Math.min(...losses));
    expect(restarted.lastRoundLosses.at(-1)!.clustering).toBe(Math.min(...losses));
    expect(three.samples).toBe(3 * one.samples);
    const warm = await restarted.trainRound(data, { epochs: 1 });
    expect(restarted.lastRoundRestartLosses).toHaveLength(1);
    expect(warm.samples).toBe(one.samples / 2);
    for (const x of [one.model, three.model, warm.model, single, restarted]) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rolls back a cold round with restarts aborted in its second start: still cold, nothing left behind', async () => {
    const before = tf.memory().numTensors;
    const trainer = new MmdcTrainer({ ...SMALL, rotation: false, restarts: 2 });
    const controller = new AbortController();
    let epochs = 0;
    const failure = await trainer
      .trainRound(data, { epochs: 2, signal: controller.signal, onEpoch: () => ++epochs === 3 && controller.abort() })
      .catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_ABORTED');
    expect(trainer.snapshot().core).toBeUndefined();
    expect(trainer.stepsTaken).toBe(0);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves no tensor behind once its models and itself are disposed', async () => {
    const before = tf.memory().numTensors;
    const trainer = new MmdcTrainer({ ...SMALL, widths: [4, 4, 4, 4] });
    for (let round = 0; round < 2; round++) (await trainer.trainRound(data, { epochs: 2 })).model.dispose();
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rolls an aborted round back: the snapshot after equals the snapshot before', async () => {
    const trainer = new MmdcTrainer(SMALL);
    (await trainer.trainRound(data, { epochs: 1 })).model.dispose();
    const before = trainer.snapshot();
    const controller = new AbortController();
    const failure = await trainer.trainRound(data, { epochs: 5, signal: controller.signal, onEpoch: () => controller.abort() }).catch((error: unknown) => error);
    expect(isTemiError(failure) && failure.code).toBe('TS_ERR_TRAIN_ABORTED');
    expect(trainer.snapshot()).toEqual(before);
    trainer.dispose();
  });

  it('restores a snapshot (through the pipeline\'s files) into a trainer that then trains like the original', async () => {
    const original = new MmdcTrainer(SMALL);
    (await original.trainRound(data, { epochs: 2 })).model.dispose();
    const copy = new MmdcTrainer(SMALL);
    copy.restore(await throughSnapshotFiles(original.snapshot()));
    const a = await original.trainRound(data, { epochs: 2 });
    const b = await copy.trainRound(data, { epochs: 2 });
    expect(b.meanLoss).toBe(a.meanLoss);
    expect(b.model.assign(data.embeddings, data.count)).toEqual(a.model.assign(data.embeddings, data.count));
    for (const r of [a, b]) r.model.dispose();
    expect(codeOf(() => new MmdcTrainer({ ...SMALL, widths: [8, 8, 8, 8] }).restore(original.snapshot()))).toContain('widths');
    original.dispose();
    copy.dispose();
  });
});

describe('the ResNet-18-style trunk', () => {
  it('trains a round on small colour images (natural domain: flips, jitter) and its model round-trips', async () => {
    const count = 64;
    const images = Float32Array.from({ length: count * 8 * 8 * 3 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
    const window = { count, dim: 8 * 8 * 3, embeddings: images, neighbours: { k: 0, indices: new Int32Array(0) } };
    const trainer = new MmdcTrainer({ clusters: 3, trunk: 'resnet18', widths: [4], batchSize: 32, rotationEvery: 1, refineFraction: 0.5 });
    expect(trainer.config.domain).toBe('natural');
    const { model } = await trainer.trainRound(window, { epochs: 2 });
    expect(trainer.lastRoundLosses.every((e) => Number.isFinite(e.clustering) && Number.isFinite(e.rotation!))).toBe(true);
    const copy = deserializeClusterModel(model.serialize(), 'spec');
    expect(copy.assign(images, count)).toEqual(model.assign(images, count));
    for (const m of [model, copy]) m.dispose();
    trainer.dispose();
  });
});

describe('MmdcModel', () => {
  it('assigns the same after serialize / deserialize, embeds on the unit sphere, and permutes its clusters', async () => {
    const trainer = new MmdcTrainer(SMALL);
    const { model } = await trainer.trainRound(data, { epochs: 3 });
    trainer.dispose();
    const mmdc = model as MmdcModel;
    expect(mmdc.trainer).toBe('mmdc');
    expect(mmdc.dim).toBe(256);
    expect(mmdc.featureDim).toBe(BAR_CLASSES);
    const expected = model.assign(data.embeddings, data.count);
    const copy = deserializeClusterModel(JSON.parse(JSON.stringify(model.serialize())), 'spec');
    expect(copy).toBeInstanceOf(MmdcModel);
    expect(copy.assign(data.embeddings, data.count)).toEqual(expected);

    const features = mmdc.embed(data.embeddings, data.count);
    expect(features).toHaveLength(data.count * BAR_CLASSES);
    for (let i = 0; i < data.count; i++) {
      const norm = Math.hypot(...features.subarray(i * BAR_CLASSES, (i + 1) * BAR_CLASSES));
      expect(norm).toBeCloseTo(1, 4);
    }

    const permutation = Int32Array.from([2, 0, 1]);
    const permuted = model.withPermutation(permutation);
    const renamed = permuted.assign(data.embeddings, data.count);
    expect(Array.from(renamed.cluster)).toEqual(Array.from(expected.cluster, (c) => permutation[c]));
    // The same dot products, in another column order: equal up to float rounding.
    for (let i = 0; i < data.count; i++) expect(renamed.confidence[i]).toBeCloseTo(expected.confidence[i], 5);
    expect(codeOf(() => model.withPermutation(Int32Array.from([0, 0, 1])))).toContain('TS_ERR_MODEL_PERMUTATION_INVALID');
    for (const m of [model, copy, permuted]) m.dispose();
    expect(codeOf(() => model.assign(data.embeddings, 1))).toContain('TS_ERR_MODEL_DISPOSED');
  });

  it('refuses a serialized model with a missing tensor, naming it', () => {
    const trainerless = { trainer: 'mmdc', numClusters: 3, dim: 256, state: { format: 'mmdc-trunk/1', trunk: 'cnn4', imageShape: [16, 16, 1], widths: [8, 16, 16, 32], outputDim: 3, inferenceCrop: 1, params: {}, stats: {} } };
    expect(codeOf(() => deserializeClusterModel(trainerless, 'spec'))).toMatch(/TS_ERR_MODEL_INVALID state.params.conv0.w/);
  });
});
