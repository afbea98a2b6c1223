import type { Counter, Metrics } from '../contracts/services.ts';

/** Records in and out of one stage since the counts were last published. */
export interface StageCount {
  in: number;
  out: number;
}

/**
 * Records entering and leaving each stage, counted per record in plain numbers and handed to the
 * metrics (temi_stage_records_in_total / _out_total) in bulk by publish(): a labelled counter
 * increment per record per stage costs a label lookup each, which showed in the CPU profile of a
 * fast pipeline; published once per sink batch and once a second, the counters lag by that much.
 */
export class StageCounts {
  private readonly seen: Counter;
  private readonly passed: Counter;
  private readonly stages = new Map<string, StageCount>();

  constructor(metrics: Metrics) {
    this.seen = metrics.counter('temi_stage_records_in_total', 'Records entering a stage', ['stage']);
    this.passed = metrics.counter('temi_stage_records_out_total', 'Records leaving a stage', ['stage']);
  }

  /** The running count of one stage; the caller increments it per record. */
  stage(name: string): StageCount {
    let count = this.stages.get(name);
    if (!count) {
      count = { in: 0, out: 0 };
      this.stages.set(name, count);
    }
    return count;
  }

  /** Adds what was counted since the last call to the metrics. */
  publish(): void {
    for (const [stage, count] of this.stages) {
      if (count.in > 0) this.seen.inc({ stage }, count.in);
      if (count.out > 0) this.passed.inc({ stage }, count.out);
      count.in = 0;
      count.out = 0;
    }
  }
}
