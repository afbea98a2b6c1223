/**
 * Turns a loaded model into "image batch in, feature rows out": a LayersModel is cut at the named
 * layer (a new functional model sharing the same weights), a GraphModel is executed up to the
 * named node, a SavedModel answers with its serving signature. Every output is flattened to
 * [batch, features], so a pooling layer's [b, 1, 1, c] needs no extra Flatten.
 */
import { closestMatch } from '../runtime/schema/closest-match.ts';
import { TemiError } from '../runtime/errors.ts';
import { tf } from '../tf/tf.ts';
import type { LoadedModel } from './load-model.ts';
import type { ExpectedGeometry } from './pixel-checks.ts';

export interface FeatureExtractor {
  /** Image size the model takes; undefined dimensions accept any size. */
  readonly geometry: ExpectedGeometry;
  /** Batch [n, h, w, c] -> [n, features]. Runs inside the caller's tidy. */
  run(batch: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface OutputChoice {
  readonly outputLayer?: string;
  readonly outputNode?: string;
}

export const OUTPUT_NOT_FOUND = 'TS_ERR_EMBED_OUTPUT_NOT_FOUND';

export function featureExtractor(loaded: LoadedModel, choice: OutputChoice, where: string): FeatureExtractor {
  switch (loaded.format) {
    case 'layers':
      return layersExtractor(loaded.model, choice, where);
    case 'graph':
      return graphExtractor(loaded.model, choice, where);
    case 'saved-model':
      return savedModelExtractor(loaded.model, choice, where);
  }
}

function layersExtractor(model: tf.LayersModel, { outputLayer, outputNode }: OutputChoice, where: string): FeatureExtractor {
  if (outputNode !== undefined) throw wrongOption(where, 'outputNode names a GraphModel node; this is a LayersModel, use outputLayer');
  if (model.inputs.length !== 1) throw new TemiError('TS_ERR_EMBED_MODEL_INPUTS', `the model has ${model.inputs.length} inputs; embed feeds one image input`, { where });
  let truncated = model;
  if (outputLayer !== undefined) {
    const names = model.layers.map((l) => l.name);
    if (!names.includes(outputLayer)) {
      const near = closestMatch(outputLayer, names);
      throw new TemiError(OUTPUT_NOT_FOUND, `the model has no layer "${outputLayer}"${near ? ` (did you mean "${near}"?)` : ''}; its last layers are ${names.slice(-6).join(', ')}`, {
        where,
      });
    }
    const output = model.getLayer(outputLayer).output;
    if (Array.isArray(output)) throw new TemiError(OUTPUT_NOT_FOUND, `layer "${outputLayer}" has several outputs; name a layer with one`, { where });
    truncated = tf.model({ inputs: model.inputs, outputs: output });
  }
  return {
    geometry: geometryOf(model.inputs[0].shape),
    run: (batch) => flattenRows(truncated.predict(batch) as tf.Tensor),
    // The truncated model shares the original's weights; disposing the original frees them all.
    dispose: () => model.dispose(),
  };
}

function graphExtractor(model: tf.GraphModel, { outputLayer, outputNode }: OutputChoice, where: string): FeatureExtractor {
  if (outputLayer !== undefined) throw wrongOption(where, 'outputLayer names a LayersModel layer; this is a GraphModel, use outputNode');
  if (model.inputs.length !== 1) throw new TemiError('TS_ERR_EMBED_MODEL_INPUTS', `the graph has ${model.inputs.length} inputs; embed feeds one image input`, { where });
  if (outputNode !== undefined) {
    const nodes = graphNodeNames(model);
    const bare = outputNode.replace(/:\d+$/, '');
    if (nodes && !nodes.includes(bare)) {
      const near = closestMatch(bare, nodes);
      throw new TemiError(OUTPUT_NOT_FOUND, `the graph has no node "${outputNode}"${near ? ` (did you mean "${near}"?)` : ''}; its outputs are ${model.outputNodes.join(', ')}`, { where });
    }
  }
  return {
    geometry: geometryOf(model.inputs[0].shape),
    run: (batch) => flattenRows((outputNode === undefined ? model.predict(batch) : model.execute(batch, outputNode)) as tf.Tensor),
    dispose: () => model.dispose(),
  };
}

function savedModelExtractor(model: import('./load-model.ts').SavedModel, { outputLayer, outputNode }: OutputChoice, where: string): FeatureExtractor {
  if (outputLayer !== undefined) throw wrongOption(where, 'outputLayer does not apply to a SavedModel; name a signature output with outputNode');
  // Fed by signature input name, tfjs-node answers with a map keyed by signature output name
  // (fed a bare tensor it returns an unnamed list when there are several outputs).
  const inputKey = Object.keys((model as { signature?: { inputs?: Record<string, unknown> } }).signature?.inputs ?? {})[0];
  return {
    geometry: geometryOf(model.inputs[0]?.shape),
    run: (batch) => {
      const out = model.predict(inputKey === undefined ? batch : { [inputKey]: batch }, {});
      if (out instanceof tf.Tensor) return flattenRows(out);
      const named = out as tf.NamedTensorMap | tf.Tensor[];
      if (Array.isArray(named)) return flattenRows(named[0]);
      const keys = Object.keys(named);
      const key = outputNode ?? (keys.length === 1 ? keys[0] : undefined);
      if (key === undefined || !(key in named)) {
        throw new TemiError(OUTPUT_NOT_FOUND, `the SavedModel signature outputs ${keys.join(', ')}; set outputNode to one of them`, { where });
      }
      return flattenRows(named[key]);
    },
    dispose: () => model.dispose(),
  };
}

function flattenRows(t: tf.Tensor): tf.Tensor2D {
  return t.rank === 2 ? (t as tf.Tensor2D) : t.reshape([t.shape[0], -1]);
}

function geometryOf(shape: readonly (number | string | null)[] | undefined): ExpectedGeometry {
  if (!shape || shape.length !== 4) return {};
  // tfjs-node reports SavedModel signature dimensions as strings ("16", "-1").
  const known = (v: number | string | null) => {
    const n = v === null ? NaN : Number(v);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  return { height: known(shape[1]), width: known(shape[2]), channels: known(shape[3]) };
}

/** Node names from the executor's graph; internal API, so a missing one only skips the early check. */
function graphNodeNames(model: tf.GraphModel): string[] | undefined {
  const nodes = (model as unknown as { executor?: { graph?: { nodes?: Record<string, unknown> } } }).executor?.graph?.nodes;
  return nodes ? Object.keys(nodes) : undefined;
}

function wrongOption(where: string, message: string): TemiError {
  return new TemiError('TS_ERR_EMBED_OUTPUT_OPTION', message, { where });
}
