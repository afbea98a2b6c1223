/**
 * `npm run demo`: the main job on the embedded default, no broker needed. Streams Debian's
 * Fashion-MNIST test split when it is installed; otherwise renders a small labelled shapes
 * dataset and streams that. Either way: decode -> pixels embed -> index -> TEMI -> assign ->
 * evaluate -> jsonl, with progress and final metrics on stderr and labels in out/.
 */
import { existsSync, rmSync } from 'node:fs';
import { main } from '../src/cli/main.ts';
import { renderShapes } from './datasets/render-shapes.ts';

const FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

let pipeline = 'pipelines/fashion-mnist.json';
if (!existsSync(FASHION)) {
  pipeline = 'pipelines/shapes.json';
  if (!existsSync('.cache/shapes')) {
    console.error('Fashion-MNIST is not installed (npm run setup:datasets); rendering the shapes dataset into .cache/shapes');
    await renderShapes('.cache/shapes', 500);
  }
}
// The demo is a fresh run each time: a kept state directory would restore the last model and
// index (as a service restart should) and make runs incomparable.
const stateDir = pipeline === 'pipelines/fashion-mnist.json' ? 'state/fashion-mnist' : 'state/shapes';
rmSync(stateDir, { recursive: true, force: true });
console.error(`running ${pipeline} (fresh state in ${stateDir})`);
process.exitCode = await main(['run', pipeline]);
