/**
 * The embed stage's routes to a model: ONNX Runtime for an .onnx file, the trunk of an mmdc model
 * another pipeline trained (model.mmdc), TensorFlow.js (on the backend chosen at start) for
 * everything else. Options that belong to the other route are
 * refused by name, so a GraphModel's outputNode on an ONNX model does not silently do nothing.
 */
import type { Embedder } from '../../embedding/embedder.ts';
import { OnnxEmbedder } from '../../embedding/onnx/onnx-embedder.ts';
import { TfEmbedder } from '../../embedding/tf-embedder.ts';
import { WorkerEmbedder } from '../../embedding/worker/worker-embedder.ts';
import { TemiError } from '../../runtime/contracts/index.ts';
import { selectBackend } from '../../tf/backends.ts';
import { loadMmdcTrunk } from './mmdc-trunk.ts';
import { resolve } from 'node:path';
import type { EmbedConfig } from './embed-config.ts';

export interface OpenedEmbedder {
  readonly embedder: Embedder;
  /** Metrics label and log field: the TF.js backend, or onnxruntime-<provider>. */
  readonly runtime: string;
  /** TF.js only: the backends skipped and why (in the worker's case, in its log lines). */
  readonly skipped?: readonly { readonly backend: string; readonly reason: string }[];
  /** TF.js only: how the model runs (its format, or "layers-as-session"). */
  readonly execution?: string;
  /** TF.js only: the thread the forward pass runs on. */
  readonly thread?: 'worker' | 'main';
  /** TF.js in a worker: the worker engine's live tensors, as it last reported them (temi_tensors_alive{thread="embed"}). */
  readonly workerTensors?: () => number | undefined;
}

const WHERE = 'with.model';

export function isOnnxModel(model: EmbedConfig['model']): boolean {
  return model.format === 'onnx' || (model.format === 'auto' && model.path !== undefined && /\.onnx$/i.test(model.path));
}

export async function openEmbedder(config: EmbedConfig, baseDir: string, log: (line: string) => void): Promise<OpenedEmbedder> {
  const { model } = config;
  if (model.mmdc !== undefined) return openMmdcTrunk(config, baseDir, log);
  if (isOnnxModel(model)) {
    refuse(model.builtin !== undefined, 'builtin', 'the built-in models are TF.js models; leave model.format out or set model.path to your .onnx file');
    refuse(model.outputLayer !== undefined, 'outputLayer', 'an ONNX model names its embedding with model.output');
    refuse(model.outputNode !== undefined, 'outputNode', 'an ONNX model names its embedding with model.output');
    if (model.path === undefined) throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', 'model.format "onnx" needs model.path (the .onnx file)', { where: `${WHERE}.path` });
    const provider = config.onnx?.executionProvider ?? 'cpu';
    const embedder = await OnnxEmbedder.open(
      { path: model.path, input: model.input, output: model.output, layout: model.layout, inputSize: model.inputSize },
      { baseDir, l2normalize: config.l2normalize, intraOpThreads: config.onnx?.intraOpThreads, executionProvider: provider, where: WHERE, settingsWhere: 'with.onnx' },
    );
    return { embedder, runtime: `onnxruntime-${provider}` };
  }
  for (const key of ['input', 'output', 'layout'] as const) {
    refuse(model[key] !== undefined, key, `model.${key} applies to ONNX models (a path ending in .onnx); a TF.js model takes outputLayer (LayersModel) or outputNode (GraphModel, SavedModel)`);
  }
  if (config.onnx !== undefined) {
    throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', 'onnx settings apply to ONNX models (a model.path ending in .onnx); this model runs on TensorFlow.js (see backend)', { where: 'with.onnx' });
  }
  const spec = { ...model, format: model.format as Exclude<typeof model.format, 'onnx'> };
  const options = { baseDir, l2normalize: config.l2normalize, where: WHERE };
  if (config.thread === 'worker') {
    // The worker chooses its backend itself (its own engine) and reports the choice in `log`.
    const embedder = await WorkerEmbedder.start({ spec, options, backend: config.backend }, log);
    return { embedder, runtime: embedder.backend, execution: embedder.execution, thread: 'worker', workerTensors: () => embedder.tensorsAlive };
  }
  const selection = await selectBackend(config.backend, log);
  const embedder = await TfEmbedder.open(spec, options);
  return { embedder, runtime: selection.backend, skipped: selection.skipped, execution: embedder.execution, thread: 'main' };
}

/**
 * The trunk of the mmdc model in service in another pipeline's state directory, read at start. It
 * runs on the pipeline's thread (a small ConvNet; its weights live in the model file, not in a
 * TF.js model a worker could load), on the backend chosen here.
 */
async function openMmdcTrunk(config: EmbedConfig, baseDir: string, log: (line: string) => void): Promise<OpenedEmbedder> {
  const { model } = config;
  for (const key of ['path', 'builtin', 'outputLayer', 'outputNode', 'inputSize', 'input', 'output', 'layout'] as const) {
    refuse(model[key] !== undefined, key, 'model.mmdc names the whole model (the trunk and its input size come from the mmdc model file); leave the other model keys out');
  }
  refuse(model.format !== 'auto', 'format', 'an mmdc trunk has no format to choose');
  if (config.onnx !== undefined) throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', 'onnx settings apply to ONNX models; model.mmdc runs on TensorFlow.js (see backend)', { where: 'with.onnx' });
  const selection = await selectBackend(config.backend, log);
  const loaded = await loadMmdcTrunk(resolve(baseDir, model.mmdc!), `${WHERE}.mmdc`);
  log(`mmdc trunk version ${loaded.version} loaded from ${loaded.file}`);
  return { embedder: loaded.embedder, runtime: selection.backend, skipped: selection.skipped, execution: `mmdc trunk v${loaded.version}`, thread: 'main' };
}

function refuse(condition: boolean, key: string, why: string): void {
  if (condition) throw new TemiError('TS_ERR_EMBED_MODEL_CHOICE', `model.${key} does not fit this model: ${why}`, { where: `${WHERE}.${key}` });
}
