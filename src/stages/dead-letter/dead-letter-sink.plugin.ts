import { resolve } from 'node:path';
import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { JsonlWriter } from '../jsonl/jsonl-writer.ts';

/** Shape of one dead-letter line; documented in docs/ARCHITECTURE.md. */
export interface DeadLetterLine {
  readonly id: string;
  readonly key: string;
  readonly stage: string;
  readonly code: string;
  readonly reason: string;
  readonly at: number;
  readonly origin: unknown;
  readonly label?: number;
  readonly headers: Record<string, string>;
  /** Base64 of the original bytes when asked for and small enough to replay. */
  readonly bytes?: string;
}

export const deadLetterSinkPlugin = definePlugin({
  name: 'dead-letter',
  kind: 'sink',
  description: 'Writes records that a stage gave up on as JSON lines: failing stage, error code, reason and the original metadata (optionally the original bytes).',
  configSchema: s.object({
    path: s.string({ minLength: 1, description: 'File relative to the state directory ("-" for stdout); absolute paths are kept.' }),
    includeBytes: s.boolean({ default: false, description: 'Embed the original bytes (base64) so the record can be replayed.' }),
    maxBytes: s.integer({ min: 0, default: 1_048_576, description: 'Largest payload embedded with includeBytes.' }),
  }),
  deps: { state: services.state },
  create({ config, deps }) {
    const target = config.path === '-' ? '-' : resolve(deps.state.dir, config.path);
    const writer = new JsonlWriter(target, true);
    return {
      batching: { maxSize: 1, maxWaitMs: 0 },
      start: () => writer.open(true),
      write: (records) =>
        writer.write(
          records.map((r) => {
            const letter = r.payload.deadLetter as { stage: string; code: string; reason: string; at: number };
            const line: DeadLetterLine = {
              id: r.id.toString(),
              key: r.key,
              stage: letter.stage,
              code: letter.code,
              reason: letter.reason,
              at: letter.at,
              origin: r.metadata.origin,
              ...(r.metadata.label !== undefined ? { label: r.metadata.label } : {}),
              headers: r.metadata.headers,
              ...(config.includeBytes && r.payload.bytes && r.payload.bytes.length <= config.maxBytes ? { bytes: Buffer.from(r.payload.bytes).toString('base64') } : {}),
            };
            return JSON.stringify(line);
          }),
        ),
      stop: () => writer.close(),
    };
  },
});
