/**
 * The sink for roles whose output is a side effect (the trainer's output is the models topic, not
 * one line per record): every record is acknowledged without being written anywhere.
 */
import { definePlugin, s } from '../../runtime/contracts/index.ts';

export const discardSinkPlugin = definePlugin({
  name: 'discard',
  kind: 'sink',
  description:
    'Acknowledges records without writing them, for roles whose output is a side effect of a stage (e.g. a trainer whose output is the models topic). Offsets still advance only after every stage before it has finished the record.',
  configSchema: s.object({
    batchSize: s.integer({ min: 1, default: 1024, description: 'Records acknowledged together.' }),
    maxWaitMs: s.integer({ min: 0, default: 50 }),
  }),
  deps: {},
  create({ config }) {
    return {
      batching: { maxSize: config.batchSize, maxWaitMs: config.maxWaitMs },
      write: async () => {},
    };
  },
});
