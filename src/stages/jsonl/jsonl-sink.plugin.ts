import { resolve } from 'node:path';
import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { JsonlWriter } from './jsonl-writer.ts';
import { recordJson } from './record-json.ts';

export const jsonlSinkPlugin = definePlugin({
  name: 'jsonl',
  kind: 'sink',
  description:
    'Writes one JSON object per record (id, cluster, confidence, modelVersion, label, origin) to a file or stdout; data is flushed before records are acknowledged. A revised label is appended as a line of its own (same id and key, revision: true, previousCluster, previousModelVersion): `temi-stream labels <file> --latest` reads the latest label per record.',
  configSchema: s.object({
    path: s.string({ minLength: 1, description: 'Output file, relative to the pipeline file; "-" for stdout.', examples: ['out/labels.jsonl', '-'] }),
    append: s.boolean({ default: false, description: 'Append to an existing file instead of replacing it.' }),
    fsync: s.boolean({ default: true, description: 'fsync after each batch so acknowledged records survive a crash.' }),
    includeEmbedding: s.boolean({ default: false, description: 'Also write the embedding vector.' }),
    batchSize: s.integer({ min: 1, default: 512, description: 'Records per write.' }),
    maxWaitMs: s.integer({ min: 0, default: 100, description: 'Longest a partial batch waits before it is written.' }),
  }),
  deps: { pipeline: services.pipeline, state: services.state },
  create({ config, deps }) {
    const target = config.path === '-' ? '-' : resolve(deps.pipeline.baseDir, config.path);
    const writer = new JsonlWriter(target, config.fsync);
    return {
      batching: { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs },
      async start() {
        await writer.open(config.append);
        // Lets `temi-stream report <state-dir>` find the labels without being told.
        if (target !== '-') await deps.state.writeJson('report-inputs.json', { labels: target });
      },
      write: (records) => writer.write(records.map((r) => JSON.stringify(recordJson(r, config)))),
      // The file is replaced at the first write or here, when the run ends with none: never at start.
      flush: () => writer.flush(),
      stop: () => writer.close(),
    };
  },
});
