import type { NeighbourTable } from '../contracts.ts';

/**
 * Self-labelling on frozen features (the spirit of SCAN's third step without a network to
 * fine-tune): the most confident share of each cluster keeps its label; every other row takes
 * the majority label of its k neighbours, three passes so labels flow in from the confident core.
 * Returns the new labels and which rows counted as confident.
 */
export function refineByNeighbours(
  labels: Int32Array,
  confidence: Float32Array,
  neighbours: NeighbourTable,
  clusters: number,
  options: { keepShare: number; k: number },
): { labels: Int32Array; keep: Uint8Array } {
  const count = labels.length;
  const keep = new Uint8Array(count);
  for (let c = 0; c < clusters; c++) {
    const members: number[] = [];
    for (let i = 0; i < count; i++) if (labels[i] === c) members.push(i);
    members.sort((a, b) => confidence[b] - confidence[a]);
    const kept = Math.max(1, Math.ceil(members.length * options.keepShare));
    for (let r = 0; r < Math.min(kept, members.length); r++) keep[members[r]] = 1;
  }
  let current = Int32Array.from(labels);
  const votes = new Int32Array(clusters);
  const width = Math.min(options.k, neighbours.k);
  for (let pass = 0; pass < 3; pass++) {
    const next = Int32Array.from(current);
    for (let i = 0; i < count; i++) {
      if (keep[i]) continue;
      votes.fill(0);
      for (let n = 0; n < width; n++) {
        const j = neighbours.indices[i * neighbours.k + n];
        if (j >= 0 && j < count) votes[current[j]]++;
      }
      let top = current[i];
      for (let c = 0; c < clusters; c++) if (votes[c] > votes[top]) top = c;
      next[i] = top;
    }
    current = next;
  }
  return { labels: current, keep };
}
