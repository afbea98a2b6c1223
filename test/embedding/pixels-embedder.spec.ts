import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/numeric/seeded-random.ts';
import { fitPca } from '../../src/embedding/pixels/pca.ts';
import { PixelsEmbedder } from '../../src/embedding/pixels/pixels-embedder.ts';
import { symmetricEigen } from '../../src/numeric/symmetric-eigen.ts';
import type { DecodedPixels } from '../../src/runtime/contracts/record.ts';

function grayscale(data: Float32Array, size: number): DecodedPixels {
  return { width: size, height: size, channels: 1, data };
}

/** Rows with planted variances along a random orthonormal basis, plus a mean offset. */
function plantedData(count: number, dim: number, variances: number[], seed: number) {
  const random = new SeededRandom(seed);
  const axes: Float64Array[] = [];
  for (let k = 0; k < variances.length; k++) {
    const v = Float64Array.from({ length: dim }, () => random.normal());
    for (const u of axes) {
      let p = 0;
      for (let i = 0; i < dim; i++) p += u[i] * v[i];
      for (let i = 0; i < dim; i++) v[i] -= p * u[i];
    }
    const n = Math.hypot(...v);
    axes.push(v.map((x) => x / n));
  }
  const rows = Array.from({ length: count }, () => {
    const row = Float32Array.from({ length: dim }, () => 0.5 + 0.05 * random.normal());
    variances.forEach((variance, k) => {
      const z = Math.sqrt(variance) * random.normal();
      for (let i = 0; i < dim; i++) row[i] += z * axes[k][i];
    });
    return row;
  });
  return { rows, axes };
}

describe('symmetricEigen', () => {
  it('diagonalises a symmetric matrix: A v = lambda v, values descending', () => {
    const n = 6;
    const random = new SeededRandom(2);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = random.normal();
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      if (k > 0) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
        expect(av).toBeCloseTo(values[k] * vectors[k * n + i], 9);
      }
    }
  });
});

describe('PCA', () => {
  const variances = [9, 4, 1, 0.25];
  const { rows, axes } = plantedData(3000, 100, variances, 7);
  const state = fitPca(rows, { components: 4, seed: 1 });

  it('recovers the planted variances and directions in order', () => {
    // Isotropic noise of 0.05^2 adds 0.0025 to every direction.
    state.variances.forEach((v, k) => expect(Math.abs(v - (variances[k] + 0.0025)) / variances[k]).toBeLessThan(0.1));
    for (let k = 0; k < 4; k++) {
      let cosine = 0;
      for (let i = 0; i < 100; i++) cosine += state.components[k * 100 + i] * axes[k][i];
      expect(Math.abs(cosine)).toBeGreaterThan(0.99);
    }
    const explained = state.variances.reduce((a, b) => a + b, 0) / state.totalVariance;
    // Planted 14.25 of 14.25 + 100 * 0.0025 total.
    expect(explained).toBeCloseTo(14.25 / 14.5, 2);
  });

  it('projected data has the component variances, uncorrelated across components', () => {
    const embedder = new PixelsEmbedder({ projection: 'pca', dim: 4, seed: 1, l2normalize: false });
    const images = rows.map((r) => grayscale(r, 10));
    images.forEach((img) => embedder.accept(img));
    embedder.fit(images.slice(0, 1000));
    const projected = images.slice(1000).map((img) => embedder.embed(img));
    const n = projected.length;
    const mean = [0, 1, 2, 3].map((k) => projected.reduce((s, p) => s + p[k], 0) / n);
    const cov = (a: number, b: number) => projected.reduce((s, p) => s + (p[a] - mean[a]) * (p[b] - mean[b]), 0) / (n - 1);
    variances.forEach((v, k) => expect(Math.abs(cov(k, k) - v) / v).toBeLessThan(0.15));
    expect(Math.abs(cov(0, 1)) / Math.sqrt(cov(0, 0) * cov(1, 1))).toBeLessThan(0.1);
    mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(0.3));
  });

  it('is deterministic: the same sample gives the same components, signs included', () => {
    const again = fitPca(rows, { components: 4, seed: 1 });
    expect(again.components).toEqual(state.components);
  });
});

describe('PixelsEmbedder', () => {
  const random = new SeededRandom(3);
  const images = Array.from({ length: 50 }, () => grayscale(Float32Array.from({ length: 784 }, () => (random.next() < 0.5 ? 0 : random.next())), 28));

  it('flatten: the pixels themselves, optionally unit length', () => {
    const raw = new PixelsEmbedder({ projection: 'none', seed: 0, l2normalize: false });
    raw.accept(images[0]);
    expect(Array.from(raw.embed(images[0]))).toEqual(Array.from(images[0].data));
    expect(raw.outputDim).toBe(784);
    const unit = new PixelsEmbedder({ projection: 'none', seed: 0, l2normalize: true });
    unit.accept(images[0]);
    expect(Math.hypot(...unit.embed(images[0]))).toBeCloseTo(1, 5);
  });

  it('random projection: identical for the same seed in another instance, different for another seed, distances roughly kept', () => {
    const make = (seed: number) => {
      const e = new PixelsEmbedder({ projection: 'random', dim: 256, seed, l2normalize: false });
      e.accept(images[0]);
      return e;
    };
    const a = make(11);
    const b = make(11);
    const c = make(12);
    expect(Array.from(a.embed(images[1]))).toEqual(Array.from(b.embed(images[1])));
    expect(Array.from(a.embed(images[1]))).not.toEqual(Array.from(c.embed(images[1])));
    const dist = (x: Float32Array, y: Float32Array) => Math.hypot(...x.map((v, i) => v - y[i]));
    for (let i = 0; i < 10; i++) {
      const ratio = dist(a.embed(images[i]), a.embed(images[i + 10])) / dist(images[i].data, images[i + 10].data);
      expect(ratio).toBeGreaterThan(0.75);
      expect(ratio).toBeLessThan(1.25);
    }
  });

  it('the first image fixes the geometry; a different size is rejected with a shape error', () => {
    const e = new PixelsEmbedder({ projection: 'none', seed: 0, l2normalize: false });
    e.accept(images[0]);
    expect(() => e.accept({ width: 14, height: 14, channels: 1, data: new Float32Array(196) })).toThrow(expect.objectContaining({ code: 'TS_ERR_EMBED_PIXELS_SHAPE' }));
  });

  it('random and pca need dim', () => {
    expect(() => new PixelsEmbedder({ projection: 'pca', seed: 0, l2normalize: false })).toThrow(expect.objectContaining({ code: 'TS_ERR_EMBED_PIXELS_DIM' }));
  });
});
