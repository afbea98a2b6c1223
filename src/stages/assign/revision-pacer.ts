/**
 * A token bucket for revised labels: `perSecond` tokens a second, at most one second's worth saved
 * up, so a new model's revisions reach downstream as a steady trickle instead of a burst that
 * would crowd out first labels. `take(n)` waits until n tokens are available.
 */
export class RevisionPacer {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.tokens = perSecond;
    this.refilledAt = now();
  }

  async take(n: number): Promise<void> {
    this.refill();
    this.tokens -= n;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.perSecond) * 1000);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}
