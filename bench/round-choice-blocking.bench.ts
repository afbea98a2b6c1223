/**
 * How long a training round's label-free choice (chooseRoundModel: k-means, spectral window
 * clustering, kNN agreement scoring) holds up the pipeline's event loop, and how soon an abort
 * (a graceful stop) ends it: on the pipeline's thread (`thread: "main"`) and in the choice's own
 * worker (`thread: "worker"`, the default).
 *
 *   npx tsx bench/round-choice-blocking.bench.ts [--rows 10000] [--mode both|thread|worker] [--abort-after-ms 1500]
 *
 * Window: the first `rows` images of Fashion-MNIST's test split (Debian's package), PCA-64 fitted
 * on the first 1,000 as pixels-embed does, an exact cosine 50-NN table as the index mines it; the
 * "in service" and "new" candidates are k-means models (assign on the pipeline's thread is part
 * of what is measured). A timer asks for a turn every 5 ms; the figures are the event loop's delay
 * (perf_hooks) and the longest gap between two turns.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { TrainingSet } from '../src/clustering/contracts.ts';
import { chooseRoundModel, windowKMeans, type RoundCandidate, type RoundChoice, type RoundChoiceOptions } from '../src/clustering/window/round-choice.ts';
import { locateFashionMnist } from '../src/datasets/fashion-mnist.ts';
import { readIdxPair } from '../src/datasets/idx-reader.ts';
import { PcaProjection } from '../src/embedding/pixels/pca.ts';
import { buildNeighbourTable } from '../src/vector-index/neighbour-table.ts';
import { option } from './bench-support.ts';

type Chooser = (data: TrainingSet, given: readonly RoundCandidate[], options: RoundChoiceOptions, signal?: AbortSignal) => Promise<RoundChoice>;

async function window(rows: number): Promise<TrainingSet> {
  const files = locateFashionMnist('test');
  const images = await readIdxPair(files.images, files.labels);
  const size = images.rows * images.cols;
  const count = Math.min(rows, images.count);
  const pixels = Array.from({ length: count }, (_, i) => Float32Array.from(images.pixels.subarray(i * size, (i + 1) * size), (v) => v / 255));
  const pca = PcaProjection.fit(pixels.slice(0, 1000), { components: 64, seed: 0 });
  const embeddings = new Float32Array(count * 64);
  pixels.forEach((p, i) => embeddings.set(pca.apply(p), i * 64));
  const neighbours = await buildNeighbourTable(embeddings, count, 64, 50, { exact: true });
  return { count, dim: 64, embeddings, neighbours };
}

interface Figures {
  wallMs: number;
  maxDelayMs: number;
  p99DelayMs: number;
  meanDelayMs: number;
  longestGapMs: number;
  outcome: string;
  abortToEndMs?: number;
}

async function measure(choose: Chooser, data: TrainingSet, abortAfterMs: number | undefined): Promise<Figures> {
  const given: RoundCandidate[] = [
    { name: 'in service', model: windowKMeans(data, 10, 1) },
    { name: 'new', model: windowKMeans(data, 10, 2) },
  ];
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 5);
  const controller = new AbortController();
  // A stop asked for at started + abortAfterMs; the timer itself fires only when the loop gets a turn.
  const aborter = abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), abortAfterMs);
  histogram.enable();
  const started = performance.now();
  let outcome: string;
  try {
    const choice = await choose(data, given, { clusters: 10, seed: 0, kmeans: true, window: true, refine: false }, controller.signal);
    outcome = `winner ${choice.winner.name}`;
  } catch (error) {
    outcome = `rejected (${(error as { code?: string }).code ?? String(error)})`;
  }
  const ended = performance.now();
  histogram.disable();
  clearInterval(ticker);
  if (aborter) clearTimeout(aborter);
  return {
    wallMs: ended - started,
    maxDelayMs: histogram.max / 1e6,
    p99DelayMs: histogram.percentile(99) / 1e6,
    meanDelayMs: histogram.mean / 1e6,
    longestGapMs: longestGap,
    outcome,
    abortToEndMs: abortAfterMs === undefined ? undefined : ended - started - abortAfterMs,
  };
}

async function workerChooser(): Promise<{ choose: Chooser; close: () => Promise<void> } | undefined> {
  try {
    const { WorkerRoundChooser } = await import('../src/clustering/worker/worker-round-chooser.ts');
    const chooser = await WorkerRoundChooser.start();
    return { choose: (data, given, options, signal) => chooser.choose(data, given, options, signal), close: () => chooser.dispose() };
  } catch (error) {
    console.log(`worker chooser unavailable here: ${String(error)}`);
    return undefined;
  }
}

function print(label: string, f: Figures): void {
  const r = (v: number) => v.toFixed(0);
  console.log(
    `${label.padEnd(26)} wall ${r(f.wallMs).padStart(6)} ms | event-loop delay max ${r(f.maxDelayMs).padStart(5)} p99 ${r(f.p99DelayMs).padStart(5)} mean ${f.meanDelayMs.toFixed(1).padStart(6)} ms | longest gap ${r(f.longestGapMs).padStart(5)} ms | ${f.outcome}` +
      (f.abortToEndMs === undefined ? '' : ` | stop asked -> choice ended ${r(f.abortToEndMs)} ms`),
  );
}

async function main(): Promise<void> {
  const rows = Number(option('rows', '10000'));
  const mode = option('mode', 'both');
  const abortAfterMs = Number(option('abort-after-ms', '1500'));
  const loadStarted = performance.now();
  const data = await window(rows);
  console.log(`window: ${data.count} x ${data.dim} (Fashion-MNIST test, PCA-64, exact 50-NN) in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (mode === 'both' || mode === 'thread') {
    print('pipeline thread, full', await measure(chooseRoundModel as Chooser, data, undefined));
    print(`pipeline thread, abort@${abortAfterMs}`, await measure(chooseRoundModel as Chooser, data, abortAfterMs));
  }
  if (mode === 'both' || mode === 'worker') {
    const worker = await workerChooser();
    if (worker) {
      try {
        print('own worker, full', await measure(worker.choose, data, undefined));
        print(`own worker, abort@${abortAfterMs}`, await measure(worker.choose, data, abortAfterMs));
        print('own worker, after abort', await measure(worker.choose, data, undefined));
      } finally {
        await worker.close();
      }
    }
  }
}

await main();
