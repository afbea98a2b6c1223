import { BUILTIN_MODEL_NAMES } from '../../embedding/builtin-models.ts';
import { s, type Infer } from '../../runtime/contracts/index.ts';
import { BACKEND_PREFERENCE } from '../../tf/backends.ts';

export const embedConfigSchema = s.object({
  model: s.object(
    {
      path: s.optional(
        s.string({
          minLength: 1,
          description:
            'model.json of a TF.js LayersModel or GraphModel, a TensorFlow SavedModel directory (native backend only), or an .onnx file (run by ONNX Runtime; see docs/MODELS.md); relative to the pipeline file.',
          examples: ['models/my-encoder/model.json', 'models/dinov2-vits14.onnx'],
        }),
      ),
      builtin: s.optional(
        s.enum(BUILTIN_MODEL_NAMES, {
          description: 'A pretrained model shipped with the project instead of path: "mobilenet-v2" (224 px RGB in [0, 1], 1280-d global-average-pool features; decode with the mobilenet-v2 preset) or "inception-v3" (299 px, 2048-d; decode preset inception-v3). Weights come from the nsfwjs npm package.',
        }),
      ),
      format: s.enum(['auto', 'layers', 'graph', 'saved-model', 'onnx'], { default: 'auto', description: 'Model format; auto takes a path ending in .onnx as ONNX, otherwise reads model.json (or finds saved_model.pb).' }),
      outputLayer: s.optional(s.string({ minLength: 1, description: 'LayersModel: the layer whose output is the embedding (usually the penultimate, e.g. the global pool). Default: the model output.' })),
      outputNode: s.optional(s.string({ minLength: 1, description: 'GraphModel: the node whose output is the embedding; SavedModel: the signature output. Default: the model output.' })),
      inputSize: s.optional(s.integer({ min: 1, description: 'Input height = width in pixels, for models whose graph leaves it open.' })),
      input: s.optional(s.string({ minLength: 1, description: 'ONNX: the input the image batch goes into. Default: the only input.', examples: ['pixel_values'] })),
      output: s.optional(s.string({ minLength: 1, description: 'ONNX: the output that is the embedding (batch first; the rest is flattened per image). Default: the first output.', examples: ['image_embeds', 'pooler_output'] })),
      layout: s.optional(
        s.enum(['auto', 'nchw', 'nhwc'], {
          description:
            'ONNX: the input layout, batch x channels x height x width (PyTorch exports) or batch x height x width x channels; auto reads it from the input shape. Pixels are transposed from what the decode stage wrote when they differ. float32 or float16 comes from the model.',
        }),
      ),
      mmdc: s.optional(
        s.string({
          minLength: 1,
          description:
            "state.dir of a pipeline whose train stage runs mmdc (relative to this pipeline file): the model in service there, read at start, embeds with its ConvNet trunk (unit-sphere features), so temi, scan, tsp or kmeans cluster learned features. Decode as that pipeline did (same size, channels, range). A newer trunk is adopted at the next start: features of two trunks do not belong in one index.",
          examples: ['../state/fashion-mnist-mmdc'],
        }),
      ),
    },
    { description: 'Which model to run: exactly one of path, builtin and mmdc. outputLayer/outputNode apply to TF.js models, input/output/layout to ONNX models.' },
  ),
  backend: s.enum(['auto', ...BACKEND_PREFERENCE], {
    default: 'auto',
    description: 'TensorFlow.js backend (TF.js models and SavedModels; an ONNX model runs on ONNX Runtime, see onnx); auto takes the fastest that loads (tensorflow-gpu, tensorflow, wasm, cpu) and logs why faster ones were skipped.',
  }),
  onnx: s.optional(
    s.object(
      {
        intraOpThreads: s.optional(s.integer({ min: 0, description: "Threads ONNX Runtime uses inside one operator; 0 or absent = its default, one per physical core. Leave cores for decode when they share a machine." })),
        executionProvider: s.optional(
          s.enum(['cpu', 'cuda'], { description: 'Where ONNX Runtime runs the model: "cpu" (default; in the npm package) or "cuda" (needs its CUDA provider libraries, docs/MODELS.md "GPU").' }),
        ),
      },
      { description: 'ONNX Runtime settings, for a model.path ending in .onnx (or model.format "onnx").' },
    ),
  ),
  thread: s.enum(['worker', 'main'], {
    default: 'worker',
    description:
      'Where a TF.js model runs: "worker" (default), a worker thread with its own TensorFlow.js engine, so the decode of the next batch overlaps this batch\'s forward pass and the pipeline\'s event loop stays free; "main", on the pipeline\'s thread (each forward pass holds it). An ONNX model always runs off the event loop (ONNX Runtime\'s own threads).',
  }),
  batchSize: s.integer({ min: 1, default: 32, description: 'Most images per forward pass.' }),
  maxWaitMs: s.integer({ min: 0, default: 50, description: 'Longest a partial batch waits for more images.' }),
  l2normalize: s.boolean({ default: true, description: 'Scale each embedding to unit length (cosine similarity = dot product).' }),
  keepPixels: s.boolean({ default: false, description: 'Keep payload.pixels after embedding (off: frees the decoded image, the bulk of a record in flight, and hands its buffer back to the decode stage for a later image; a stage that keeps payload.pixels.data past embed copies it or sets this).' }),
});

export type EmbedConfig = Infer<typeof embedConfigSchema>;
