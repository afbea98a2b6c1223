import { resolve } from 'node:path';
import { checkPixels } from '../../embedding/pixel-checks.ts';
import type { Embedder } from '../../embedding/embedder.ts';
import { definePlugin, type StreamRecord, services, s, TemiError } from '../../runtime/contracts/index.ts';
import { perBatch, perRecord } from '../../runtime/operators/index.ts';
import { BACKEND_PREFERENCE, selectBackend } from '../../tf/backends.ts';
import { trackTensors } from '../../tf/tensor-gauge.ts';
import { checkTrunkLayout, loadMmdcTrunk } from './mmdc-trunk.ts';

export const mmdcEmbedStagePlugin = definePlugin({
  name: 'mmdc-embed',
  kind: 'stage',
  description:
    "Embeds decoded images with the ConvNet trunk of an mmdc model that another pipeline trained (its state directory's model in service, read at start): payload.embedding becomes mmdc's unit-sphere features, so temi, scan, tsp or kmeans can cluster learned features instead of pixels. Decode as the mmdc pipeline did (same size, channels and range, HWC). A newer trunk is adopted at the next start: features of two trunks do not belong in one index.",
  configSchema: s.object({
    models: s.string({
      minLength: 1,
      description: "state.dir of the pipeline whose train stage runs mmdc (relative to this pipeline file); its models/latest.json is loaded.",
      examples: ['../state/fashion-mnist-mmdc'],
    }),
    backend: s.enum(['auto', ...BACKEND_PREFERENCE] as const, { default: 'auto', description: 'TensorFlow.js backend the trunk runs on; auto takes the fastest that loads.' }),
    batchSize: s.integer({ min: 1, default: 256, description: 'Most images per forward pass.' }),
    maxWaitMs: s.integer({ min: 0, default: 20, description: 'Longest a partial batch waits for more images.' }),
    keepPixels: s.boolean({ default: false, description: 'Keep payload.pixels after embedding.' }),
  }),
  needs: { payload: ['pixels'] },
  provides: { payload: ['embedding'] },
  deps: { logger: services.logger, metrics: services.metrics, pipeline: services.pipeline, deadLetters: services.deadLetters },
  create({ config, deps, instanceName }) {
    const log = deps.logger.child({ stage: instanceName });
    const scope = { stage: instanceName, deadLetters: deps.deadLetters };
    const embedded = deps.metrics.counter('temi_embed_images_total', 'Images embedded', ['stage', 'backend']);
    let embedder: Embedder | undefined;
    let backend = 'none';
    let releaseTensors: (() => void) | undefined;

    const ready = (): Embedder => {
      if (!embedder) throw new TemiError('TS_ERR_EMBED_NOT_STARTED', 'the mmdc-embed stage received records before start() loaded its trunk');
      return embedder;
    };

    const embedBatch = async (records: StreamRecord[]): Promise<StreamRecord[]> => {
      const rows = await ready().embed(records.map((r) => r.payload.pixels!));
      embedded.inc({ stage: instanceName, backend }, records.length);
      records.forEach((record, i) => {
        record.payload.embedding = rows[i];
        if (!config.keepPixels) delete record.payload.pixels;
      });
      return records;
    };

    return {
      async start() {
        releaseTensors = trackTensors(deps.metrics);
        const selection = await selectBackend(config.backend, (line) => log.info(line));
        backend = selection.backend;
        const loaded = await loadMmdcTrunk(resolve(deps.pipeline.baseDir, config.models), 'with.models');
        embedder = loaded.embedder;
        log.info('mmdc trunk loaded', { file: loaded.file, version: loaded.version, ...embedder.geometry, dim: embedder.dim, backend });
      },
      // Checked per record ahead of batching: a wrong-sized image is dead-lettered on its own.
      operator: (source) =>
        source.pipe(
          perRecord(scope, (record) => {
            checkTrunkLayout(checkPixels(record.payload.pixels, ready().geometry));
            return record;
          }),
          perBatch(scope, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs }, embedBatch),
        ),
      async stop() {
        await embedder?.dispose();
        embedder = undefined;
        releaseTensors?.();
      },
    };
  },
});
