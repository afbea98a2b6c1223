/**
 * `npm run demo`: the main job on the embedded default, no broker needed. Streams Debian's
 * Fashion-MNIST test split, installing it with apt when it is missing and this is root;
 * otherwise (or with DEMO_DATA=shapes / --data shapes) renders a small labelled shapes dataset
 * and streams that. Either way: decode -> pixels embed -> index -> train -> assign -> evaluate
 * -> jsonl, with progress on stderr, then the scores, the wall time and an HTML report.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { main } from '../src/cli/main.ts';
import { DEMO_USAGE, ensureFashionMnist, parseDemoArgs, type DemoData } from './demo/choose-dataset.ts';
import { preparePipeline } from './demo/split-pipeline.ts';
import { demoSummary, type TrainingSummary } from './demo/demo-summary.ts';
import { ensureShapes } from './demo/ensure-shapes.ts';
import { scoreLabelsFile } from './demo/score-labels.ts';

const PIPELINES: Record<DemoData, string> = { 'fashion-mnist': 'pipelines/fashion-mnist.json', shapes: 'pipelines/shapes.json' };

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(DEMO_USAGE);
  process.exit(0);
}
const request = parseDemoArgs(args, process.env);
if (!request) {
  console.error(DEMO_USAGE);
  process.exit(2);
}
const choice = request.data;
let data: DemoData = choice === 'shapes' ? 'shapes' : 'fashion-mnist';
if (data === 'fashion-mnist' && !ensureFashionMnist(request.split)) {
  if (choice === 'fashion-mnist' || request.pipeline || request.split) {
    console.error('demo: Fashion-MNIST was asked for and is not installed; see above for how to install it.');
    process.exit(1);
  }
  console.error('demo: falling back to the rendered shapes dataset (npm run demo -- --data shapes does this directly)');
  data = 'shapes';
}

const { file: pipeline, stateDir, labelsPath } = preparePipeline(request.pipeline ?? PIPELINES[data], request.split);
if (data === 'shapes') {
  const spec = JSON.parse(readFileSync(pipeline, 'utf8')) as { source: { with: { folder?: string } } };
  await ensureShapes(resolve(dirname(resolve(pipeline)), spec.source.with.folder!));
}

// The demo is a fresh run each time: a kept state directory would restore the last model and
// index (as a service restart should) and make runs incomparable.
rmSync(stateDir, { recursive: true, force: true });
console.error(`demo: running ${pipeline} (fresh state in ${relative('.', stateDir)})`);
const exitCode = await main(['run', pipeline]);

const finalFile = resolve(stateDir, 'evaluation-final.json');
const evaluation = existsSync(finalFile) ? (JSON.parse(readFileSync(finalFile, 'utf8')) as Record<string, unknown>) : undefined;
let reportPath: string | undefined;
if (exitCode === 0) {
  const out = resolve(stateDir, 'report.html');
  if ((await main(['report', stateDir, '--pipeline', pipeline, '--out', out])) === 0) reportPath = out;
}
const labels = existsSync(labelsPath) ? await scoreLabelsFile(labelsPath) : undefined;
const trainingFile = resolve(stateDir, 'training-summary.json');
const training = existsSync(trainingFile) ? (JSON.parse(readFileSync(trainingFile, 'utf8')) as TrainingSummary) : undefined;
const seconds = performance.now() / 1000; // since the process started
const what = `${data}${request.split ? ` ${request.split} split` : ''}${request.pipeline ? `, ${request.pipeline}` : ''}`;
console.error(`\n${demoSummary({ data: what, seconds, exitCode, evaluation, labels, training, reportPath, labelsPath: relative('.', labelsPath) })}`);
process.exitCode = exitCode;
