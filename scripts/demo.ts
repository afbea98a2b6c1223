/**
 * `npm run demo`: the main job on the embedded default, no broker needed. Streams Debian's
 * Fashion-MNIST test split when it is installed; otherwise renders a small labelled shapes
 * dataset and streams that. Either way: decode -> pixels embed -> index -> TEMI -> assign ->
 * evaluate -> jsonl, with progress and final metrics on stderr and labels in out/.
 */
import { existsSync } from 'node:fs';
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
console.error(`running ${pipeline}`);
process.exitCode = await main(['run', pipeline]);
