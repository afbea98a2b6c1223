import { Observable } from 'rxjs';
import { definePlugin, s, services } from '../../src/runtime/contracts/index.ts';

/**
 * A source plugin of 8-d embeddings in 4 separated groups (label = group), emitted with
 * backpressure; `count` records, or until closed when it is Infinity.
 */
export function blobSource(name: string, count: number) {
  return definePlugin({
    name,
    kind: 'source',
    description: `${count} 8-d blob embeddings in 4 groups.`,
    configSchema: s.object({}),
    deps: { records: services.records },
    create: ({ deps }) => {
      let closed = false;
      return {
        close() {
          closed = true;
        },
        open: (flow) =>
          new Observable((subscriber) => {
            void (async () => {
              for (let i = 0; i < count && !closed; i++) {
                await flow.whenReady();
                const e = new Float32Array(8).map((_, j) => (j === i % 4 ? 5 : 0) + Math.sin(i * 7 + j));
                subscriber.next(deps.records.create({ key: `b${i}`, payload: { embedding: e }, origin: { source: name }, label: i % 4 }));
                if (i % 100 === 0) await new Promise((r) => setImmediate(r));
              }
              subscriber.complete();
            })();
          }),
      };
    },
  });
}
