import { SeededRandom } from '../../numeric/seeded-random.ts';

/** A uniform reservoir (Algorithm R) of labelled embeddings, so the final model can be scored on a bounded sample of an unbounded stream. */
export class LabelledSample {
  private readonly embeddings: Float32Array[] = [];
  private readonly labels: number[] = [];
  private seen = 0;
  private readonly random: SeededRandom;

  constructor(private readonly capacity: number, seed: number) {
    this.random = new SeededRandom(seed);
  }

  get size(): number {
    return this.embeddings.length;
  }

  offer(embedding: Float32Array, label: number): void {
    if (this.capacity === 0) return;
    this.seen++;
    if (this.embeddings.length < this.capacity) {
      this.embeddings.push(embedding);
      this.labels.push(label);
      return;
    }
    const slot = this.random.int(this.seen);
    if (slot < this.capacity) {
      this.embeddings[slot] = embedding;
      this.labels[slot] = label;
    }
  }

  /** The sample as one row-major matrix; rows whose dimension differs from `dim` are left out. */
  matrix(dim: number): { embeddings: Float32Array; labels: Int32Array; count: number } {
    const rows = this.embeddings.map((e, i) => [e, this.labels[i]] as const).filter(([e]) => e.length === dim);
    const embeddings = new Float32Array(rows.length * dim);
    rows.forEach(([e], i) => embeddings.set(e, i * dim));
    return { embeddings, labels: Int32Array.from(rows, ([, l]) => l), count: rows.length };
  }
}
