import type { Embedder } from '../../embedding/embedder.ts';
import { checkPixels } from '../../embedding/pixel-checks.ts';
import { defer } from 'rxjs';
import { definePlugin, type StreamRecord, services, TemiError } from '../../runtime/contracts/index.ts';
import { perBatch, perRecord } from '../../runtime/operators/index.ts';
import { trackTensors, trackWorkerTensors } from '../../tf/tensor-gauge.ts';
import { tf } from '../../tf/tf.ts';
import { embedConfigSchema } from './embed-config.ts';
import { openEmbedder } from './open-embedder.ts';

export const embedStagePlugin = definePlugin({
  name: 'embed',
  kind: 'stage',
  description:
    'Runs an image model on batches of decoded images and sets payload.embedding: a TensorFlow.js model (LayersModel, GraphModel, SavedModel on native TensorFlow, or the built-in MobileNetV2) or an ONNX model on ONNX Runtime (model.path ending in .onnx; input/output by name, NCHW or NHWC, float32 or float16). Records without usable pixels are dead-lettered.',
  configSchema: embedConfigSchema,
  needs: { payload: ['pixels'] },
  provides: { payload: ['embedding'] },
  deps: { logger: services.logger, metrics: services.metrics, pipeline: services.pipeline, deadLetters: services.deadLetters, flow: services.flow, pixelBuffers: services.pixelBuffers },
  create({ config, deps, instanceName }) {
    const log = deps.logger.child({ stage: instanceName });
    const scope = { stage: instanceName, deadLetters: deps.deadLetters };
    const batchSeconds = deps.metrics.histogram('temi_embed_batch_seconds', 'Wall time of one embed forward pass', ['stage', 'backend'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    const embedded = deps.metrics.counter('temi_embed_images_total', 'Images embedded', ['stage', 'backend']);
    let embedder: Embedder | undefined;
    let backend = 'none';
    let releaseTensors: (() => void) | undefined;

    const ready = (): Embedder => {
      if (!embedder) throw new TemiError('TS_ERR_EMBED_NOT_STARTED', 'the embed stage received records before start() loaded its model');
      return embedder;
    };

    const embedBatch = async (records: StreamRecord[]): Promise<StreamRecord[]> => {
      const model = ready();
      const started = performance.now();
      const rows = await model.embed(records.map((r) => r.payload.pixels!));
      batchSeconds.observe((performance.now() - started) / 1000, { stage: instanceName, backend });
      embedded.inc({ stage: instanceName, backend }, records.length);
      records.forEach((record, i) => {
        record.payload.embedding = rows[i];
        if (!config.keepPixels) {
          // Packed and done with: the buffer holds the next image the decode stage takes it for.
          deps.pixelBuffers.give(record.payload.pixels!.data);
          delete record.payload.pixels;
        }
      });
      return records;
    };

    return {
      async start() {
        releaseTensors = trackTensors(deps.metrics);
        const tensorsBefore = tf.memory().numTensors;
        const opened = await openEmbedder(config, deps.pipeline.baseDir, (line) => log.info(line));
        embedder = opened.embedder;
        backend = opened.runtime;
        if (opened.workerTensors) {
          const releaseMain = releaseTensors;
          const releaseWorker = trackWorkerTensors(deps.metrics, 'embed', opened.workerTensors);
          releaseTensors = () => {
            releaseWorker();
            releaseMain();
          };
        }
        log.info('embed backend chosen', { backend, skipped: opened.skipped, thread: opened.thread, execution: opened.execution });
        log.info('embed model loaded', { ...embedder.geometry, dim: embedder.dim, weightTensors: tf.memory().numTensors - tensorsBefore, batchSize: config.batchSize });
      },
      // Pixel checks run per record ahead of batching, so a malformed record is dead-lettered on
      // its own and never costs its batch a record-by-record retry. The operator is subscribed
      // after start(), when the model says how many batches it takes at once.
      operator: (source) =>
        defer(() =>
          source.pipe(
            perRecord(scope, (record) => {
              checkPixels(record.payload.pixels, ready().geometry);
              return record;
            }),
            perBatch(scope, { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs, flow: deps.flow, concurrency: embedder?.batchesAtOnce ?? 1 }, embedBatch),
          ),
        ),
      async stop() {
        await embedder?.dispose();
        embedder = undefined;
        releaseTensors?.();
      },
    };
  },
});
