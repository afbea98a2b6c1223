import type { PrototypeModel } from '../../clustering/window/prototype-model.ts';
import type { TrainingSet } from '../../runtime/contracts/index.ts';

export interface NoveltySettings {
  /** Recent records the unfamiliar share is measured over. */
  readonly records: number;
  /** Share of those records that fit no cluster at which a round is brought forward. */
  readonly share: number;
}

/** Share of the window's own rows that count as unfamiliar: the threshold is this quantile of their fit. */
const WINDOW_QUANTILE = 0.05;
const SAMPLE_ROWS = 2000;

/**
 * Notices records that fit no cluster: each arriving embedding's cosine similarity to the nearest
 * prototype of the last round's window clustering, against the similarity that 95% of that
 * window's own rows reach. About 5% of records from the same distribution fall below it; a new
 * class arriving (a stream in class order) pushes that share up at once, long before
 * `everyRecords` more records have arrived, so the train stage brings the next round forward.
 */
export class NoveltyMonitor {
  private reference: PrototypeModel | undefined;
  private threshold = -Infinity;
  private readonly recent: Uint8Array;
  private next = 0;
  private seen = 0;
  private unfamiliar = 0;

  constructor(readonly settings: NoveltySettings) {
    this.recent = new Uint8Array(settings.records);
  }

  /** Measures fit against these prototypes from now on; the threshold comes from the window they were built on. */
  arm(prototypes: PrototypeModel, data: TrainingSet): void {
    const step = Math.max(1, Math.floor(data.count / SAMPLE_ROWS));
    const rows = Math.floor(data.count / step);
    const sample = new Float32Array(rows * data.dim);
    for (let r = 0; r < rows; r++) sample.set(data.embeddings.subarray(r * step * data.dim, (r * step + 1) * data.dim), r * data.dim);
    const fit = Array.from(prototypes.bestSimilarity(sample, rows)).sort((a, b) => a - b);
    this.reference = prototypes;
    this.threshold = fit[Math.floor(WINDOW_QUANTILE * (fit.length - 1))] ?? -Infinity;
    this.recent.fill(0);
    this.next = 0;
    this.seen = 0;
    this.unfamiliar = 0;
  }

  observe(embedding: Float32Array | undefined): void {
    const reference = this.reference;
    if (!reference || !embedding || embedding.length !== reference.dim || !embedding.every(Number.isFinite)) return;
    const flag = reference.bestSimilarity(embedding, 1)[0] < this.threshold ? 1 : 0;
    this.unfamiliar += flag - this.recent[this.next];
    this.recent[this.next] = flag;
    this.next = (this.next + 1) % this.recent.length;
    this.seen++;
  }

  /** Share of the last `records` records that fit no cluster (0 until that many arrived). */
  get unfamiliarShare(): number {
    return this.seen >= this.recent.length ? this.unfamiliar / this.recent.length : 0;
  }

  get surging(): boolean {
    return this.unfamiliarShare >= this.settings.share;
  }
}
