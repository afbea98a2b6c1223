import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Observable } from 'rxjs';
import { definePlugin, services, errorCode, reasonOf, s } from '../../runtime/contracts/index.ts';
import { parseEnvelope } from './envelope.ts';

export const replaySourcePlugin = definePlugin({
  name: 'replay',
  kind: 'source',
  description: 'Replays a JSON-lines file of image envelopes {id, image (base64), label?, headers?}: a captured stream, or dead letters written with includeBytes. Optionally paced to a fixed rate.',
  configSchema: s.object({
    path: s.string({ minLength: 1, description: 'JSON-lines file, relative to the pipeline file.' }),
    ratePerSecond: s.optional(s.number({ exclusiveMin: 0, description: 'Emit at most this many records per second (latency measurements); unpaced when absent.' })),
  }),
  provides: { payload: ['bytes'] },
  deps: { pipeline: services.pipeline, records: services.records, deadLetters: services.deadLetters },
  create({ config, deps, instanceName }) {
    const file = resolve(deps.pipeline.baseDir, config.path);
    let closed = false;
    return {
      close() {
        closed = true;
      },
      open: (flow) =>
        new Observable((subscriber) => {
          const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
          const started = Date.now();
          (async () => {
            let line = 0;
            for await (const text of lines) {
              line++;
              if (closed) break;
              if (text.trim() === '') continue;
              await flow.whenReady();
              if (config.ratePerSecond) {
                const due = started + ((line - 1) * 1000) / config.ratePerSecond;
                const wait = due - Date.now();
                if (wait > 0) await new Promise((r) => setTimeout(r, wait));
              }
              const where = `${file}:${line}`;
              try {
                const envelope = parseEnvelope(text, where);
                subscriber.next(
                  deps.records.create({ key: envelope.id, payload: { bytes: envelope.bytes }, origin: { source: instanceName, file, position: line }, label: envelope.label, headers: envelope.headers }),
                );
              } catch (error) {
                // A malformed line is bad input, not a broken source: dead-letter it and go on.
                const record = deps.records.create({ key: where, payload: {}, origin: { source: instanceName, file, position: line } });
                await deps.deadLetters.send({ record, stage: instanceName, code: errorCode(error), reason: reasonOf(error) });
              }
            }
          })().then(
            () => subscriber.complete(),
            (error) => subscriber.error(error),
          );
          return () => {
            closed = true;
            lines.close();
          };
        }),
    };
  },
});
