import { type TrainerName, type TrainerSettings, createTrainer } from '../../clustering/trainer-factory.ts';
import { isTemiError, type PipelineCheckContext, type ValidationIssue } from '../../runtime/contracts/index.ts';

/** What `validate` checks of a train stage beyond its own schema, before anything runs. */
export function checkTrainPipeline(config: TrainCheckConfig, context: PipelineCheckContext): ValidationIssue[] {
  return [...checkTrainerSettings(config, context), ...checkMmdcInput(config.trainer, context), ...checkWindow(config, context)];
}

type TrainCheckConfig = TrainerSettings & { readonly k: number; readonly trainer: TrainerName; readonly maxRows?: number };

/** The settings the stage builds its trainer from, at start and when `validate` checks them. */
export function trainerSettings(config: TrainerSettings): TrainerSettings {
  const { clusters, seed, batchSize, learningRate, heads, options } = config;
  return { clusters, seed, batchSize, learningRate, heads, options };
}

/** Settings of the stage itself that a trainer checks along with its options. */
const STAGE_SETTINGS = new Set(['clusters', 'seed', 'batchSize', 'learningRate', 'heads']);
/** What some trainers call a stage setting. */
const STAGE_ALIASES: Record<string, string> = { numClusters: 'clusters' };

/**
 * The trainer checks its own options when it is built (each names the bad one), which is when
 * the pipeline starts: without this, `validate` would pass options the run then refuses. Building
 * one allocates nothing (weights come with the first round), so validation builds it and drops it.
 */
function checkTrainerSettings(config: TrainCheckConfig, context: PipelineCheckContext): ValidationIssue[] {
  const { options } = config;
  try {
    void createTrainer(config.trainer, trainerSettings(config)).dispose();
    return [];
  } catch (error) {
    if (!isTemiError(error)) throw error;
    // Trainers name the option as "batchSize", "scan.batchSize" or "StreamingKMeansTrainer: batchSize".
    const named = error.where?.split(/[.:\s]+/).at(-1) ?? '';
    const key = STAGE_ALIASES[named] ?? named;
    const path =
      options && key in options ? `${context.path}.with.options.${key}` : STAGE_SETTINGS.has(key) ? `${context.path}.with.${key}` : `${context.path}.with.options`;
    return [{ code: error.code, path, message: `the ${config.trainer} trainer refuses its settings: ${error.reason}` }];
  }
}

/**
 * mmdc learns its features from the images themselves: its rows must be the decoded pixels as
 * they are (pixels-embed with projection "none" and l2normalize false), not features a model or
 * a projection made of them. Without this check the trainer would fail every round on a
 * dimension it cannot read as an image, or, worse, train a ConvNet on PCA scores laid out as a
 * picture. A third-party embedding stage is not second-guessed.
 */
function checkMmdcInput(trainer: string, context: PipelineCheckContext): ValidationIssue[] {
  if (trainer !== 'mmdc') return [];
  const embed = [...context.before].reverse().find((u) => u.plugin === 'pixels-embed' || u.plugin === 'embed');
  if (!embed) return [];
  const settings = embed.config as { projection?: string; l2normalize?: boolean } | undefined;
  const wrong =
    embed.plugin === 'embed'
      ? { path: `${embed.path}.use`, found: 'embed (a model\'s features)' }
      : settings?.projection !== undefined && settings.projection !== 'none'
        ? { path: `${embed.path}.with.projection`, found: `projection "${settings.projection}"` }
        : settings?.l2normalize !== false
          ? { path: `${embed.path}.with.l2normalize`, found: 'l2normalize true' }
          : undefined;
  if (!wrong) return [];
  return [
    {
      code: 'TS_ERR_PIPELINE_MMDC_INPUT',
      path: wrong.path,
      expected: 'pixels-embed with projection "none" and l2normalize false before an mmdc train stage',
      found: wrong.found,
      message: `the mmdc trainer (${context.path}) trains a ConvNet on the decoded images themselves, so its rows must be the pixels as decoded: use pixels-embed with projection "none" and l2normalize false (found ${wrong.found} at ${wrong.path}); to give other trainers mmdc's learned features, embed with model.mmdc in a second pipeline`,
    },
  ];
}

/**
 * A round mines each row's k nearest neighbours and waits until the index holds more than k
 * vectors; an index that can never hold that many means no round, ever, and every record leaves
 * unassigned with exit 0. The kmeans trainer does not use the neighbours but its rounds wait
 * the same way. And a round trains on the window: fewer rows than clusters cannot seed them.
 */
function checkWindow(config: { readonly k: number; readonly trainer: string; readonly clusters: number; readonly maxRows?: number }, context: PipelineCheckContext): ValidationIssue[] {
  const index = [...context.before].reverse().find((u) => u.plugin === 'index');
  const capacity = (index?.config as { capacity?: number } | undefined)?.capacity;
  if (!index || capacity === undefined) return [];
  const issues: ValidationIssue[] = [];
  if (config.k >= capacity) {
    const kmeans = config.trainer === 'kmeans' ? ' (the kmeans trainer does not use k, but its rounds wait for the same)' : '';
    issues.push({
      code: 'TS_ERR_PIPELINE_TRAIN_K',
      path: `${context.path}.with.k`,
      expected: `k below the index's capacity (${capacity}, ${index.path}.with.capacity)`,
      found: String(config.k),
      message: `k (${config.k}) must be below the index's capacity (${capacity} at ${index.path}.with.capacity): a round starts only once the index holds more than k vectors${kmeans}, so training would never run; lower k or raise the capacity`,
    });
  }
  // A window with fewer rows than clusters cannot seed them: kmeans rejects every such round.
  const rows = Math.min(capacity, config.maxRows ?? Infinity);
  if (config.clusters > rows) {
    const limit = rows === capacity ? `the index's capacity (${capacity} at ${index.path}.with.capacity)` : `maxRows (${rows})`;
    issues.push({
      code: 'TS_ERR_PIPELINE_TRAIN_CLUSTERS',
      path: `${context.path}.with.clusters`,
      expected: `at most ${rows} clusters`,
      found: String(config.clusters),
      message: `clusters (${config.clusters}) must not exceed ${limit}: a round trains on at most that many rows, too few to give each cluster one; lower clusters or raise the limit`,
    });
  }
  return issues;
}
