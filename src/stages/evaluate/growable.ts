/** An append-only Int32 column that doubles its buffer, for per-record history of long streams. */
export class GrowableInt32 {
  private data = new Int32Array(1024);
  private size = 0;

  push(v: number): void {
    if (this.size === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.size++] = v;
  }

  /** Overwrites an existing entry. */
  set(index: number, v: number): void {
    if (index < 0 || index >= this.size) throw new RangeError(`index ${index} outside 0..${this.size - 1}`);
    this.data[index] = v;
  }

  get length(): number {
    return this.size;
  }

  view(from = 0): Int32Array {
    return this.data.subarray(from, this.size);
  }

  toJSON(): number[] {
    return Array.from(this.view());
  }

  static from(values: readonly number[]): GrowableInt32 {
    const g = new GrowableInt32();
    for (const v of values) g.push(v);
    return g;
  }
}
