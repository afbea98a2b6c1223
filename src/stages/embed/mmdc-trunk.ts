/**
 * The trunk of an mmdc model another pipeline trained, read from that pipeline's state
 * directory, as an embed model (`model.mmdc`): its unit-sphere features become
 * payload.embedding, so TEMI, SCAN or k-means can cluster learned features instead of pixels.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MMDC_TRAINER_NAME, type MmdcModel } from '../../clustering/mmdc/index.ts';
import { deserializePublished } from '../../clustering/registry/model-registry.ts';
import type { Embedder } from '../../embedding/embedder.ts';
import { type DecodedPixels, TemiError } from '../../runtime/contracts/index.ts';

/** Where a pipeline's model registry keeps the version in service (PersistentModelRegistry). */
const LATEST = join('models', 'latest.json');

export interface LoadedTrunk {
  readonly embedder: Embedder;
  readonly version: number;
  readonly file: string;
}

/**
 * Loads the version in service under `stateDir`. Only an mmdc model has a trunk; any other
 * trainer's model (or none yet) is a configuration mistake named with the file it was read from.
 */
export async function loadMmdcTrunk(stateDir: string, where: string): Promise<LoadedTrunk> {
  const file = join(stateDir, LATEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TemiError(
      'TS_ERR_MMDC_EMBED_NO_MODEL',
      missing ? `no published model at ${file}: run the pipeline that trains mmdc (state.dir ${stateDir}) until it publishes a version` : `cannot read ${file}: ${(error as Error).message}`,
      { where },
    );
  }
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch (error) {
    throw new TemiError('TS_ERR_MMDC_EMBED_NO_MODEL', `${file} is not JSON (${(error as Error).message})`, { where });
  }
  const trainer = (stored as { trainer?: unknown })?.trainer;
  if (trainer !== MMDC_TRAINER_NAME) {
    throw new TemiError('TS_ERR_MMDC_EMBED_NOT_MMDC', `the model in service at ${file} was trained by ${JSON.stringify(trainer)}, not mmdc: only mmdc models have a trunk to embed with`, { where });
  }
  const published = deserializePublished(stored as Parameters<typeof deserializePublished>[0], file);
  return { embedder: new MmdcTrunkEmbedder(published.model as MmdcModel), version: published.version, file };
}

class MmdcTrunkEmbedder implements Embedder {
  readonly geometry: Embedder['geometry'];
  readonly dim: number;

  constructor(private readonly model: MmdcModel) {
    const [height, width, channels] = model.weights.imageShape;
    this.geometry = { width, height, channels };
    this.dim = model.featureDim;
  }

  async embed(images: readonly DecodedPixels[]): Promise<Float32Array[]> {
    const size = this.model.dim;
    const rows = new Float32Array(images.length * size);
    images.forEach((image, i) => rows.set(image.layout === 'chw' ? toHwc(image) : image.data, i * size));
    const features = this.model.embed(rows, images.length);
    return images.map((_, i) => features.slice(i * this.dim, (i + 1) * this.dim));
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** The trunk was trained on pixels-embed rows, HWC as decoded; a CHW decode is put in that order. */
function toHwc({ width, height, channels, data }: DecodedPixels): Float32Array {
  const out = new Float32Array(data.length);
  const plane = width * height;
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[p * channels + c] = data[c * plane + p];
  return out;
}
