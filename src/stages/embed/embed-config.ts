import { BUILTIN_MODEL_NAMES } from '../../embedding/builtin-models.ts';
import { s, type Infer } from '../../runtime/contracts/index.ts';
import { BACKEND_PREFERENCE } from '../../tf/backends.ts';

export const embedConfigSchema = s.object({
  model: s.object(
    {
      path: s.optional(
        s.string({
          minLength: 1,
          description: 'model.json of a TF.js LayersModel or GraphModel, or a TensorFlow SavedModel directory (native backend only); relative to the pipeline file.',
          examples: ['models/my-encoder/model.json'],
        }),
      ),
      builtin: s.optional(
        s.enum(BUILTIN_MODEL_NAMES, {
          description: 'A pretrained model shipped with the project instead of path: "mobilenet-v2" (224 px RGB in [0, 1], 1280-d global-average-pool features; decode with the mobilenet-v2 preset) or "inception-v3" (299 px, 2048-d; decode preset inception-v3). Weights come from the nsfwjs npm package.',
        }),
      ),
      format: s.enum(['auto', 'layers', 'graph', 'saved-model'], { default: 'auto', description: 'Model format; auto reads model.json (or finds saved_model.pb).' }),
      outputLayer: s.optional(s.string({ minLength: 1, description: 'LayersModel: the layer whose output is the embedding (usually the penultimate, e.g. the global pool). Default: the model output.' })),
      outputNode: s.optional(s.string({ minLength: 1, description: 'GraphModel: the node whose output is the embedding; SavedModel: the signature output. Default: the model output.' })),
      inputSize: s.optional(s.integer({ min: 1, description: 'Input height = width in pixels, for models whose graph leaves it open.' })),
    },
    { description: 'Which model to run: exactly one of path and builtin.' },
  ),
  backend: s.enum(['auto', ...BACKEND_PREFERENCE], {
    default: 'auto',
    description: 'TensorFlow.js backend; auto takes the fastest that loads (tensorflow-gpu, tensorflow, wasm, cpu) and logs why faster ones were skipped.',
  }),
  batchSize: s.integer({ min: 1, default: 32, description: 'Most images per forward pass.' }),
  maxWaitMs: s.integer({ min: 0, default: 50, description: 'Longest a partial batch waits for more images.' }),
  l2normalize: s.boolean({ default: true, description: 'Scale each embedding to unit length (cosine similarity = dot product).' }),
  keepPixels: s.boolean({ default: false, description: 'Keep payload.pixels after embedding (off: frees the decoded image, the bulk of a record in flight).' }),
});

export type EmbedConfig = Infer<typeof embedConfigSchema>;
