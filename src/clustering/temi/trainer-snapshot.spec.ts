import { describe, expect, it } from 'vitest';
import { BLOB_CLUSTERS, blobs } from '../../../test/support/blob-window.ts';
import { throughSnapshotFiles } from '../../../test/support/snapshot-round-trip.ts';
import { isTemiError } from '../../runtime/errors.ts';
import { encodeFloat32 } from '../float-codec.ts';
import { TemiTrainer } from './temi-trainer.ts';

const CONFIG = { heads: 2, clusters: BLOB_CLUSTERS, hidden: 32, bottleneck: 16, batchSize: 64, learningRate: 1e-2, warmupEpochs: 0, seed: 3, standardize: true };

/** The snapshot as written before blobs: every Float32Array as base64 inside the JSON. */
function asBase64Json(value: unknown): unknown {
  if (value instanceof Float32Array) return encodeFloat32(value);
  if (Array.isArray(value)) return value.map(asBase64Json);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asBase64Json(v)]));
  return value;
}

describe('TEMI trainer snapshot format', () => {
  it('holds Float32Arrays (no base64 in the JSON), and restores them through the snapshot files', async () => {
    const data = blobs(200, 5);
    const original = new TemiTrainer(CONFIG);
    (await original.trainRound(data, { epochs: 1 })).model.dispose();
    const snapshot = original.snapshot();
    expect(snapshot.core!.student.w1).toBeInstanceOf(Float32Array);
    expect(snapshot.core!.optimiser.w1.secondMoment).toBeInstanceOf(Float32Array);
    const copy = new TemiTrainer(CONFIG);
    copy.restore(await throughSnapshotFiles(snapshot));
    expect(copy.snapshot()).toEqual(snapshot);
    original.dispose();
    copy.dispose();
  });

  it('still restores a snapshot written before blobs (base64 floats inside snapshot.json)', async () => {
    const data = blobs(200, 5);
    const original = new TemiTrainer(CONFIG);
    (await original.trainRound(data, { epochs: 1 })).model.dispose();
    const copy = new TemiTrainer(CONFIG);
    copy.restore(JSON.parse(JSON.stringify(asBase64Json(original.snapshot()))));
    expect(copy.snapshot()).toEqual(original.snapshot());
    const a = await original.trainRound(data, { epochs: 1 });
    const b = await copy.trainRound(data, { epochs: 1 });
    expect(b.meanLoss).toBe(a.meanLoss);
    for (const r of [a, b]) r.model.dispose();
    original.dispose();
    copy.dispose();
  });

  it('refuses a float array of the wrong kind with a coded error naming the field', async () => {
    const data = blobs(200, 5);
    const original = new TemiTrainer(CONFIG);
    (await original.trainRound(data, { epochs: 1 })).model.dispose();
    const snapshot = original.snapshot();
    const broken = { ...snapshot, core: { ...snapshot.core!, marginal: [1, 2, 3] } };
    const failure = (() => {
      try {
        new TemiTrainer(CONFIG).restore(broken);
      } catch (error) {
        return error;
      }
    })();
    expect(isTemiError(failure) && failure.message).toMatch(/expected a typed array or a base64 string, found object/);
    original.dispose();
  });
});
