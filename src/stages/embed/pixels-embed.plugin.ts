import { PixelsEmbedder, type PixelsEmbedderState } from '../../embedding/pixels/pixels-embedder.ts';
import { definePlugin, type StreamRecord, services, errorCode, reasonOf, s } from '../../runtime/contracts/index.ts';
import { perRecord } from '../../runtime/operators/index.ts';
import { Observable } from 'rxjs';
import { fitOnWarmup } from './fit-on-warmup.ts';

export const pixelsEmbedConfigSchema = s.object({
  projection: s.enum(['none', 'random', 'pca'], {
    default: 'none',
    description: 'none: the flattened pixels; random: a fixed seeded Gaussian projection to dim; pca: principal components fitted on the first warmupRecords images, then applied to all.',
  }),
  dim: s.optional(s.integer({ min: 1, description: 'Embedding size for random and pca.' })),
  seed: s.integer({ default: 42, description: 'Seed of the random projection (and of the PCA solver start).' }),
  warmupRecords: s.integer({ min: 2, default: 1000, description: 'PCA: images held back to fit on (fitted earlier if the in-flight bound or the end of input is reached first).' }),
  l2normalize: s.boolean({ default: true, description: 'Scale each embedding to unit length.' }),
  keepPixels: s.boolean({
    default: false,
    description:
      'Keep payload.pixels after embedding (off: frees the decoded image and hands its buffer back to the decode stage for a later image; a stage that keeps payload.pixels.data past this one copies it or sets this).',
  }),
});

export const pixelsEmbedStagePlugin = definePlugin({
  name: 'pixels-embed',
  kind: 'stage',
  description: 'Embeds decoded images without a model: flattened pixels, optionally reduced by a seeded random projection or by PCA fitted on a warm-up sample. For small grayscale datasets such as Fashion-MNIST.',
  configSchema: pixelsEmbedConfigSchema,
  needs: { payload: ['pixels'] },
  provides: { payload: ['embedding'] },
  deps: { logger: services.logger, deadLetters: services.deadLetters, flow: services.flow, pixelBuffers: services.pixelBuffers },
  create({ config, deps, instanceName }) {
    const log = deps.logger.child({ stage: instanceName });
    const scope = { stage: instanceName, deadLetters: deps.deadLetters };
    const embedder = new PixelsEmbedder({ projection: config.projection, dim: config.dim, seed: config.seed, l2normalize: config.l2normalize });

    const fitOnSample = async (sample: StreamRecord[]): Promise<StreamRecord[]> => {
      const started = performance.now();
      try {
        embedder.fit(sample.map((r) => r.payload.pixels!));
      } catch (error) {
        for (const record of sample) await deps.deadLetters.send({ record, stage: instanceName, code: errorCode(error), reason: reasonOf(error) });
        return [];
      }
      const explained = embedder.explainedVarianceRatio!.reduce((a, b) => a + b, 0);
      log.info('PCA fitted on the warm-up sample', { images: sample.length, dim: config.dim, explainedVariance: Number(explained.toFixed(4)), seconds: Number(((performance.now() - started) / 1000).toFixed(2)) });
      return sample;
    };
    const sourcePaused = new Observable<void>((subscriber) => deps.flow.onChange((paused) => paused && subscriber.next()));

    return {
      operator: (source) =>
        source.pipe(
          perRecord(scope, (record) => {
            embedder.accept(record.payload.pixels);
            return record;
          }),
          fitOnWarmup({ size: config.warmupRecords, fitted: () => !embedder.needsFit, fit: fitOnSample, fitNow: sourcePaused }),
          perRecord(scope, (record) => {
            record.payload.embedding = embedder.embed(record.payload.pixels!);
            if (!config.keepPixels) {
              // The embedding is a copy: the buffer holds the next image the decode stage takes it for.
              deps.pixelBuffers.give(record.payload.pixels!.data);
              delete record.payload.pixels;
            }
            return record;
          }),
        ),
      snapshot: () => embedder.snapshot(),
      restore: (state) => embedder.restore(state as PixelsEmbedderState | undefined),
    };
  },
});
