/**
 * Example third-party plugin, written only against the public contract (`temi-stream/contracts`
 * and `temi-stream/operators`). It guards the pipeline against images whose encoded size is
 * outside a window: too small is usually a broken upload, too large a waste of decode time.
 *
 * Use it from a pipeline:
 *   "plugins": ["./plugins/byte-size-guard.ts"],
 *   "stages": [{ "use": "byte-size-guard", "with": { "minBytes": 64, "maxBytes": 5000000 } }, ...]
 */
import { TemiError, definePlugin, s, services } from 'temi-stream/contracts';
import { perRecord } from 'temi-stream/operators';

export default definePlugin({
  name: 'byte-size-guard',
  kind: 'stage',
  description: 'Dead-letters records whose encoded image is smaller than minBytes or larger than maxBytes; counts what it passes.',
  configSchema: s.object({
    minBytes: s.integer({ min: 0, default: 1, description: 'Smallest accepted payload, in bytes.' }),
    maxBytes: s.integer({ min: 1, default: 20_000_000, description: 'Largest accepted payload, in bytes.' }),
  }),
  // Optional: what it reads and adds, so `validate` can check the stages around it (it adds nothing).
  needs: { payload: ['bytes'] },
  provides: {},
  deps: { deadLetters: services.deadLetters, metrics: services.metrics },
  create({ config, deps, instanceName }) {
    const passed = deps.metrics.counter('example_byte_size_guard_passed_total', 'Records within the size window');
    return {
      operator: perRecord({ stage: instanceName, deadLetters: deps.deadLetters }, (record) => {
        const size = record.payload.bytes?.length ?? 0;
        if (size < config.minBytes || size > config.maxBytes) {
          throw new TemiError('EXAMPLE_ERR_BYTE_SIZE', `payload of ${size} bytes is outside [${config.minBytes}, ${config.maxBytes}]`, { where: record.key });
        }
        passed.inc();
        return record;
      }),
    };
  },
});
