/**
 * Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the greedy refinement scikit-learn
 * uses): each new centre is the best of 2 + floor(ln k) candidates drawn with probability
 * proportional to the squared distance to the nearest centre chosen so far, "best" meaning the
 * candidate that lowers the total potential most.
 */
import type { SeededRandom } from '../../numeric/seeded-random.ts';
import { squaredDistance, type Vectors } from './nearest-centre.ts';

export function kmeansPlusPlus(data: Vectors, count: number, dim: number, k: number, rowNorms: Float64Array, random: SeededRandom): Float64Array {
  const centres = new Float64Array(k * dim);
  const trials = 2 + Math.floor(Math.log(k));
  const first = random.int(count);
  copyRow(data, first, centres, 0, dim);

  let closest = new Float64Array(count);
  let potential = 0;
  for (let i = 0; i < count; i++) {
    closest[i] = squaredDistance(data, i, rowNorms[i], data, first, rowNorms[first], dim);
    potential += closest[i];
  }

  let candidateClosest = new Float64Array(count);
  let bestClosest = new Float64Array(count);
  for (let c = 1; c < k; c++) {
    let bestPotential = Infinity;
    let bestCandidate = -1;
    for (let t = 0; t < trials; t++) {
      const candidate = potential > 0 ? sampleProportional(closest, random.next() * potential) : random.int(count);
      let candidatePotential = 0;
      for (let i = 0; i < count; i++) {
        const d = squaredDistance(data, i, rowNorms[i], data, candidate, rowNorms[candidate], dim);
        const m = d < closest[i] ? d : closest[i];
        candidateClosest[i] = m;
        candidatePotential += m;
      }
      if (candidatePotential < bestPotential) {
        bestPotential = candidatePotential;
        bestCandidate = candidate;
        [bestClosest, candidateClosest] = [candidateClosest, bestClosest];
      }
    }
    copyRow(data, bestCandidate, centres, c, dim);
    [closest, bestClosest] = [bestClosest, closest];
    potential = bestPotential;
  }
  return centres;
}

/** Index i where the running sum of weights first reaches `target` (clamped to the last row). */
function sampleProportional(weights: Float64Array, target: number): number {
  let running = 0;
  for (let i = 0; i < weights.length; i++) {
    running += weights[i];
    if (running >= target && weights[i] > 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
  return weights.length - 1;
}

export function copyRow(from: Vectors, row: number, to: Float64Array, toRow: number, dim: number): void {
  const source = row * dim;
  const target = toRow * dim;
  for (let d = 0; d < dim; d++) to[target + d] = from[source + d];
}
