import { resolve } from 'node:path';
import { definePlugin, services, s } from '../../runtime/contracts/index.ts';
import { CloseSignal, emitPlan } from './emit-plan.ts';
import { planFolder } from './folder-plan.ts';
import { planIdx } from './idx-plan.ts';
import { exactlyOneOf, onlyWith, RefinedSchema } from './refined-schema.ts';
import type { SourcePlan } from './source-plan.ts';

const FOLDER_ONLY = ['extensions', 'recursive', 'labelsFrom', 'readAhead'] as const;

const filesConfigShape = s.object({
  folder: s.optional(
    s.string({
      minLength: 1,
      description:
        'Give either this or idx. Folder of JPEG/PNG/WebP images, relative to the pipeline file; files are emitted sorted by relative path (the record key). An entry with an image extension that is no readable file (a dangling or looping link, a FIFO, a device) is dead-lettered (TS_ERR_FILES_NOT_A_FILE); bytes of a name that are not UTF-8 appear in the key as %XX.',
      examples: ['data/pets'],
    }),
  ),
  idx: s.optional(
    s.object(
      {
        images: s.string({ minLength: 1, description: 'idx3-ubyte image file, plain or .gz, relative to the pipeline file.' }),
        labels: s.optional(s.string({ minLength: 1, description: 'idx1-ubyte label file, plain or .gz; labels ride along as metadata.label.' })),
      },
      { description: 'Give either this or folder. An MNIST-family IDX pair. Records carry 8-bit grayscale payload.rawPixels; put the decode stage after this source to get normalised payload.pixels.' },
    ),
  ),
  extensions: s.array(s.string({ minLength: 1 }), {
    minItems: 1,
    default: ['.jpg', '.jpeg', '.png', '.webp'],
    description: 'Folder mode: file extensions to read (case-insensitive); other files are ignored.',
  }),
  recursive: s.boolean({ default: true, description: 'Folder mode: also read sub-folders.' }),
  labelsFrom: s.enum(['none', 'parent-folder', 'top-folder'] as const, {
    default: 'none',
    description:
      'Folder mode: label records from folder names, numbered 0.. in sorted order of the names (the name also goes to headers.class). "parent-folder": the folder holding the file; "top-folder": the first folder below the root (ImageFolder layout).',
  }),
  offset: s.integer({ min: 0, default: 0, description: 'Skip this many records (in sorted order / IDX rows) first.' }),
  limit: s.optional(s.integer({ min: 0, description: 'Emit at most this many records.' })),
  readAhead: s.integer({ min: 1, max: 1024, default: 8, description: 'Folder mode: files read ahead of the one being emitted.' }),
});

export const filesConfigSchema = new RefinedSchema(filesConfigShape, [exactlyOneOf(['folder', 'idx']), onlyWith('folder', FOLDER_ONLY)], {
  oneOf: [{ required: ['folder'] }, { required: ['idx'] }],
});

export const filesSourcePlugin = definePlugin({
  name: 'files',
  kind: 'source',
  description:
    'Reads a finite set of images: a folder of JPEG/PNG/WebP files (payload.bytes, key = relative path, optional labels from folder names), or an MNIST-family IDX/IDX.gz pair (payload.rawPixels, key = <file>#<row>, labels in metadata.label). Completes when every record is emitted.',
  configSchema: filesConfigSchema,
  provides: { payload: ['bytes', 'rawPixels'] },
  deps: { pipeline: services.pipeline, records: services.records, deadLetters: services.deadLetters, logger: services.logger },
  create({ config, deps, instanceName }) {
    const closing = new CloseSignal();
    const logger = deps.logger.child({ stage: instanceName });
    let plan: SourcePlan | undefined;
    const at = (path: string) => resolve(deps.pipeline.baseDir, path);
    return {
      get expectedCount() {
        return plan?.count;
      },
      async start() {
        if (config.idx) {
          plan = await planIdx({
            images: at(config.idx.images),
            labels: config.idx.labels === undefined ? undefined : at(config.idx.labels),
            offset: config.offset,
            limit: config.limit,
            source: instanceName,
          });
        } else {
          const folderPlan = await planFolder({
            folder: at(config.folder!),
            extensions: config.extensions,
            recursive: config.recursive,
            labelsFrom: config.labelsFrom,
            offset: config.offset,
            limit: config.limit,
            readAhead: config.readAhead,
            source: instanceName,
          });
          if (config.labelsFrom !== 'none') logger.info('class labels from folder names', { classes: Object.fromEntries(folderPlan.classes) });
          plan = folderPlan;
        }
        logger.info(`reading ${plan.summary}`, { records: plan.count });
      },
      open(flow) {
        if (!plan) throw new Error('files source opened before start()');
        return emitPlan(plan, { flow, records: deps.records, deadLetters: deps.deadLetters, stage: instanceName, closing });
      },
      close() {
        closing.close();
      },
    };
  },
});
