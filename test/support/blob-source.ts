import { Observable } from 'rxjs';
import { definePlugin, s, services } from '../../src/runtime/contracts/index.ts';

export interface BlobSourceOptions {
  /** Embedding width (default 8). */
  dim?: number;
  /** Record i belongs to group i % groups, its label (default 4). */
  groups?: number;
  /**
   * Default: the group's dimension (j === group) at 5 plus small noise (sin, amplitude 1): well
   * separated. Noisy: every dimension j with j % groups === group at 3 plus noise of amplitude 2,
   * which the window clustering takes seconds to split on a few thousand records.
   */
  noisy?: boolean;
  /** A pause of 1 ms after every this many records (at most this many a millisecond); unpaced when absent. */
  perMillisecond?: number;
}

/**
 * A source plugin of blob embeddings (by default 8-d in 4 separated groups; label = group), keys
 * `b<i>`, emitted with backpressure; `count` records, or until closed when it is Infinity.
 */
export function blobSource(name: string, count: number, options: BlobSourceOptions = {}) {
  const { dim = 8, groups = 4, noisy = false, perMillisecond } = options;
  const embedding = noisy
    ? (i: number) => new Float32Array(dim).map((_, j) => (j % groups === i % groups ? 3 : 0) + 2 * Math.sin(i * 7.3 + j * 1.7) * Math.cos(i * 0.37 + j))
    : (i: number) => new Float32Array(dim).map((_, j) => (j === i % groups ? 5 : 0) + Math.sin(i * 7 + j));
  return definePlugin({
    name,
    kind: 'source',
    description: `${count} ${dim}-d${noisy ? ' noisy' : ''} blob embeddings in ${groups} groups.`,
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
                if (closed) break;
                subscriber.next(deps.records.create({ key: `b${i}`, payload: { embedding: embedding(i) }, origin: { source: name }, label: i % groups }));
                if (perMillisecond && i % perMillisecond === 0) await new Promise((r) => setTimeout(r, 1));
                else if (i % 100 === 0) await new Promise((r) => setImmediate(r));
              }
              subscriber.complete();
            })();
          }),
      };
    },
  });
}
