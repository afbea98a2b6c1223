import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { DemoSplit } from './choose-dataset.ts';

interface DemoPipeline {
  $schema?: string;
  name?: string;
  source?: { use?: string; with?: { idx?: { images: string; labels?: string } } };
  sink: { with: { path: string } };
  state: { dir: string };
}

export interface PreparedPipeline {
  /** The file to run (the original, or a rewritten copy in a temporary folder). */
  readonly file: string;
  readonly stateDir: string;
  readonly labelsPath: string;
}

/**
 * The pipeline as shipped, or with `split` a copy reading that Fashion-MNIST split (the IDX file
 * names swapped) whose state and labels sit beside the originals with a `-<split>` suffix, so a
 * train-split run never overwrites the test-split one. Paths in the copy are absolute: it lives
 * in a temporary folder.
 */
export function preparePipeline(file: string, split: DemoSplit | undefined): PreparedPipeline {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as DemoPipeline;
  const here = dirname(resolve(file));
  const stateDir = resolve(here, spec.state.dir);
  const labelsPath = resolve(here, spec.sink.with.path);
  const idx = spec.source?.with?.idx;
  if (!split) return { file, stateDir, labelsPath };
  if (spec.source?.use !== 'files' || !idx?.labels || !/(train|t10k)-images/.test(idx.images)) {
    throw new Error(`--split needs a files source reading Fashion-MNIST's IDX files (…-images-idx3-ubyte.gz and labels); ${file} has none`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  idx.images = resolve(here, idx.images.replace(/(train|t10k)-images/, `${prefix}-images`));
  idx.labels = resolve(here, idx.labels.replace(/(train|t10k)-labels/, `${prefix}-labels`));
  const copy: DemoPipeline = {
    ...spec,
    name: `${spec.name ?? basename(file, '.json')}-${split}`,
    state: { ...spec.state, dir: `${stateDir}-${split}` },
    sink: { ...spec.sink, with: { ...spec.sink.with, path: labelsPath.replace(/(\.jsonl)?$/, `-${split}$1`) } },
  };
  delete copy.$schema;
  const out = join(mkdtempSync(join(tmpdir(), 'temi-demo-')), `${basename(file, '.json')}-${split}.json`);
  writeFileSync(out, `${JSON.stringify(copy, null, 2)}\n`);
  return { file: out, stateDir: copy.state.dir, labelsPath: copy.sink.with.path };
}
