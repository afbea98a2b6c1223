/**
 * Batch k-means as scikit-learn runs it by default: greedy k-means++ seeding, Lloyd iterations
 * until the labels stop changing or the centres move less than tol x (mean per-feature variance),
 * n_init restarts keeping the lowest inertia. Used as the k-means baseline and by trainers that
 * initialise their heads from k-means centres.
 */
import { TemiError } from '../../runtime/errors.ts';
import { SeededRandom } from '../../numeric/seeded-random.ts';
import { ClusterSums } from './cluster-sums.ts';
import { kmeansPlusPlus } from './kmeans-plus-plus.ts';
import { rowDot, squaredDistance, squaredRowNorms, type Vectors } from './nearest-centre.ts';

export interface KMeansOptions {
  /** Restarts from fresh seeds; the lowest-inertia run wins. Default 10. */
  nInit?: number;
  /** Lloyd iterations per restart. Default 300. */
  maxIter?: number;
  /** Convergence when the summed squared centre shift <= tol x mean per-feature variance. Default 1e-4. */
  tol?: number;
  seed?: number;
}

export interface KMeansResult {
  /** k x dim, row-major. */
  centres: Float32Array;
  labels: Int32Array;
  /** Sum of squared distances of every row to its centre. */
  inertia: number;
}

export function fitKMeans(data: Float32Array, count: number, dim: number, k: number, options: KMeansOptions = {}): KMeansResult {
  const nInit = options.nInit ?? 10;
  const maxIter = options.maxIter ?? 300;
  const tol = options.tol ?? 1e-4;
  checkProblem({ data, count, dim, k }, { nInit, maxIter, tol });

  const problem: LloydProblem = { data, count, dim, k, rowNorms: squaredRowNorms(data, count, dim) };
  const limits: LloydLimits = { maxIter, tolerance: tol * meanFeatureVariance(data, count, dim) };
  const random = new SeededRandom(options.seed ?? 0);
  let best: LloydRun | undefined;
  for (let run = 0; run < nInit; run++) {
    const seeds = kmeansPlusPlus(data, count, dim, k, problem.rowNorms, random);
    const result = runLloyd(problem, seeds, limits);
    if (best === undefined || result.inertia < best.inertia) best = result;
  }
  const winner = best as LloydRun;
  return { centres: Float32Array.from(winner.centres), labels: winner.labels, inertia: winner.inertia };
}

/** count rows of dim values, to be put into k clusters. */
export interface LloydProblem {
  readonly data: Vectors;
  readonly count: number;
  readonly dim: number;
  readonly k: number;
  /** Squared norm of every row, computed once for all restarts. */
  readonly rowNorms: Float64Array;
}

export interface LloydLimits {
  readonly maxIter: number;
  /** Stop once the summed squared centre shift is at most this (tol x mean per-feature variance). */
  readonly tolerance: number;
}

export interface LloydRun {
  centres: Float64Array;
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

/** k centres, row-major, with their squared norms. */
interface Centres {
  readonly values: Float64Array;
  readonly norms: Float64Array;
}

/**
 * Lloyd's iterations, computed with Hamerly's bounds (Hamerly 2010): each row keeps an upper
 * bound on the distance to its centre and a lower bound on the distance to any other centre,
 * and both are moved by how far the centres moved. A row whose bounds prove it cannot change
 * cluster costs no distance computation, which after the first few iterations is nearly every
 * row. The labels and centres are those of plain Lloyd; only the work is skipped.
 */
export function runLloyd(problem: LloydProblem, seeds: Float64Array, limits: LloydLimits): LloydRun {
  const { data, count, dim, k, rowNorms } = problem;
  let centres: Centres = { values: seeds, norms: squaredRowNorms(seeds, k, dim) };
  const rows = new BoundedRows(problem);
  rows.assignAll(centres);
  const movement = new Float64Array(k);

  let iterations = 0;
  let labelsFitCentres = false;
  for (let iteration = 0; iteration < limits.maxIter; iteration++) {
    iterations = iteration + 1;
    // Unchanged labels give unchanged centres, so the labels already belong to them.
    if (iteration > 0 && rows.reassign(centres) === 0) {
      labelsFitCentres = true;
      break;
    }
    rows.relocateEmptyClusters(centres);
    const next = rows.clusters.means(centres.values);
    const shift = centreMovement(centres.values, next, k, dim, movement);
    rows.moveBounds(movement);
    centres = { values: next, norms: squaredRowNorms(next, k, dim) };
    if (shift <= limits.tolerance) break;
  }
  if (!labelsFitCentres) rows.reassign(centres);
  const { labels } = rows;
  let inertia = 0;
  for (let i = 0; i < count; i++) inertia += squaredDistance(data, i, rowNorms[i], centres.values, labels[i], centres.norms[labels[i]], dim);
  return { centres: centres.values, labels, inertia, iterations };
}

/** Fills `movement` with how far each centre moved; returns the summed squared shift. */
function centreMovement(centres: Float64Array, next: Float64Array, k: number, dim: number, movement: Float64Array): number {
  let shift = 0;
  for (let c = 0; c < k; c++) {
    let moved = 0;
    for (let d = 0; d < dim; d++) {
      const delta = next[c * dim + d] - centres[c * dim + d];
      moved += delta * delta;
    }
    shift += moved;
    movement[c] = Math.sqrt(moved);
  }
  return shift;
}

/** The rows' labels, their Hamerly bounds and the running cluster sums, kept consistent with each other. */
class BoundedRows {
  readonly labels: Int32Array;
  /** Upper bound on each row's distance to its own centre. */
  private readonly upper: Float64Array;
  /** Lower bound on each row's distance to any other centre. */
  private readonly lower: Float64Array;
  readonly clusters: ClusterSums;

  constructor(private readonly problem: LloydProblem) {
    this.labels = new Int32Array(problem.count);
    this.upper = new Float64Array(problem.count);
    this.lower = new Float64Array(problem.count);
    this.clusters = new ClusterSums(problem.data, problem.dim, problem.k);
  }

  assignAll(centres: Centres): void {
    for (let i = 0; i < this.problem.count; i++) {
      this.assignFully(i, centres);
      this.clusters.add(i, this.labels[i]);
    }
  }

  /** One E-step under the bounds; moves changed rows between the cluster sums and counts them. */
  reassign(centres: Centres): number {
    const { data, count, dim, k, rowNorms } = this.problem;
    const { labels, upper, lower } = this;
    // Half the distance from each centre to its nearest other centre: a row closer than that to
    // its own centre cannot be closer to any other.
    const halfGap = new Float64Array(k).fill(Infinity);
    for (let a = 0; a < k; a++) {
      for (let b = a + 1; b < k; b++) {
        const half = 0.5 * Math.sqrt(squaredDistance(centres.values, a, centres.norms[a], centres.values, b, centres.norms[b], dim));
        if (half < halfGap[a]) halfGap[a] = half;
        if (half < halfGap[b]) halfGap[b] = half;
      }
    }
    let changed = 0;
    for (let i = 0; i < count; i++) {
      const own = labels[i];
      const bound = Math.max(halfGap[own], lower[i]);
      if (upper[i] <= bound) continue;
      upper[i] = Math.sqrt(squaredDistance(data, i, rowNorms[i], centres.values, own, centres.norms[own], dim));
      if (upper[i] <= bound) continue;
      this.assignFully(i, centres);
      if (labels[i] !== own) {
        this.clusters.move(i, own, labels[i]);
        changed++;
      }
    }
    return changed;
  }

  /** The centres moved by `movement`: each row's own centre by its own, any other by at most the largest other. */
  moveBounds(movement: Float64Array): void {
    let largest = 0;
    let secondLargest = 0;
    let largestAt = -1;
    for (let c = 0; c < movement.length; c++) {
      if (movement[c] > largest) {
        secondLargest = largest;
        largest = movement[c];
        largestAt = c;
      } else if (movement[c] > secondLargest) {
        secondLargest = movement[c];
      }
    }
    for (let i = 0; i < this.problem.count; i++) {
      const c = this.labels[i];
      this.upper[i] += movement[c];
      this.lower[i] -= c === largestAt ? secondLargest : largest;
    }
  }

  /**
   * A cluster left empty takes the row farthest from its own centre (as scikit-learn relocates
   * them), so all k clusters stay in use. Rare, so exact distances are computed only then.
   */
  relocateEmptyClusters(centres: Centres): void {
    const { clusters, labels } = this;
    let distances: Float64Array | undefined;
    for (let c = 0; c < clusters.k; c++) {
      if (clusters.sizes[c] > 0) continue;
      distances ??= this.exactDistances(centres);
      let far = -1;
      for (let i = 0; i < this.problem.count; i++) {
        if (distances[i] < 0 || clusters.sizes[labels[i]] <= 1) continue;
        if (far < 0 || distances[i] > distances[far]) far = i;
      }
      if (far < 0) return;
      clusters.move(far, labels[far], c);
      labels[far] = c;
      distances[far] = -1;
      // Its new centre is the row itself; the bounds are rebuilt on the next E-step.
      this.upper[far] = 0;
      this.lower[far] = 0;
    }
  }

  /** Exact nearest and second-nearest centre of row i; resets its bounds. */
  private assignFully(i: number, centres: Centres): void {
    const { data, dim, k, rowNorms } = this.problem;
    const base = i * dim;
    let best = 0;
    let bestScore = Infinity;
    let secondScore = Infinity;
    for (let c = 0; c < k; c++) {
      // ||x||^2 is the same for every centre: rank by ||c||^2 - 2 x.c.
      const score = centres.norms[c] - 2 * rowDot(data, base, centres.values, c * dim, dim);
      if (score < bestScore) {
        secondScore = bestScore;
        bestScore = score;
        best = c;
      } else if (score < secondScore) {
        secondScore = score;
      }
    }
    this.labels[i] = best;
    this.upper[i] = Math.sqrt(Math.max(rowNorms[i] + bestScore, 0));
    this.lower[i] = secondScore === Infinity ? Infinity : Math.sqrt(Math.max(rowNorms[i] + secondScore, 0));
  }

  private exactDistances(centres: Centres): Float64Array {
    const { data, count, dim, rowNorms } = this.problem;
    const { labels } = this;
    const distances = new Float64Array(count);
    for (let i = 0; i < count; i++) distances[i] = squaredDistance(data, i, rowNorms[i], centres.values, labels[i], centres.norms[labels[i]], dim);
    return distances;
  }
}

/** Mean over features of each feature's (population) variance: the scale tol is relative to. */
export function meanFeatureVariance(data: Vectors, count: number, dim: number): number {
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) mean[d] += data[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= count;
  let total = 0;
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) {
      const delta = data[i * dim + d] - mean[d];
      total += delta * delta;
    }
  }
  return total / count / dim;
}

function checkProblem({ data, count, dim, k }: { data: Float32Array; count: number; dim: number; k: number }, { nInit, maxIter, tol }: { nInit: number; maxIter: number; tol: number }): void {
  const fail = (code: string, message: string) => {
    throw new TemiError(code, message, { where: 'fitKMeans' });
  };
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(dim) || dim < 1) fail('TS_ERR_KMEANS_SHAPE', `count and dim must be positive integers, got ${count} x ${dim}`);
  if (data.length !== count * dim) fail('TS_ERR_KMEANS_SHAPE', `data holds ${data.length} values; expected count x dim = ${count} x ${dim} = ${count * dim}`);
  if (!Number.isInteger(k) || k < 1 || k > count) fail('TS_ERR_KMEANS_CLUSTERS', `k must be an integer in [1, ${count}] (one centre per row at most), got ${k}`);
  if (!Number.isInteger(nInit) || nInit < 1) fail('TS_ERR_KMEANS_OPTION', `nInit must be a positive integer, got ${nInit}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) fail('TS_ERR_KMEANS_OPTION', `maxIter must be a positive integer, got ${maxIter}`);
  if (!(tol >= 0)) fail('TS_ERR_KMEANS_OPTION', `tol must be >= 0, got ${tol}`);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail('TS_ERR_KMEANS_VALUE', `value ${i} (row ${Math.floor(i / dim)}, column ${i % dim}) is ${data[i]}; k-means needs finite data`);
  }
}
