import type { PipelineCheckContext, ValidationIssue } from '../../runtime/contracts/index.ts';

interface AssignSettings {
  readonly beforeFirstModel: 'unassigned' | 'wait' | 'bootstrap';
  readonly waitRecords?: number;
  readonly bootstrapRecords: number;
  readonly bootstrapClusters: number;
}

/**
 * Held records count against runtime.maxInFlight, and the source pauses at that bound: holding
 * for a first model that needs more records than the bound lets through sits until
 * waitTimeoutMs (10 minutes by default) with nothing written. The rule the `beforeFirstModel`
 * description states, checked.
 */
export function checkAssignPipeline(config: AssignSettings, context: PipelineCheckContext): ValidationIssue[] {
  const { maxInFlight } = context.runtime;
  const at = `${context.path}.with.beforeFirstModel`;
  if (config.beforeFirstModel === 'bootstrap' && maxInFlight <= config.bootstrapRecords) {
    return [
      {
        code: 'TS_ERR_PIPELINE_IN_FLIGHT_TOO_LOW',
        path: at,
        expected: `runtime.maxInFlight above bootstrapRecords (${config.bootstrapRecords})`,
        found: `runtime.maxInFlight ${maxInFlight}`,
        message: `"bootstrap" holds ${config.bootstrapRecords} records (bootstrapRecords) before its first model, but runtime.maxInFlight (${maxInFlight}) pauses the source first; raise runtime.maxInFlight above ${config.bootstrapRecords} or lower bootstrapRecords`,
      },
    ];
  }
  if (config.beforeFirstModel === 'bootstrap' && config.bootstrapClusters > config.bootstrapRecords) {
    // Fewer rows than clusters: the bootstrap fit gives up and holds nothing back but time.
    return [
      {
        code: 'TS_ERR_PIPELINE_BOOTSTRAP_CLUSTERS',
        path: `${context.path}.with.bootstrapClusters`,
        expected: `at most bootstrapRecords (${config.bootstrapRecords}) clusters`,
        found: String(config.bootstrapClusters),
        message: `bootstrapClusters (${config.bootstrapClusters}) must not exceed bootstrapRecords (${config.bootstrapRecords}): k-means cannot seed more clusters than it has rows, so no bootstrap model would come`,
      },
    ];
  }
  if (config.beforeFirstModel !== 'wait') return [];
  const trainAfter = context.after.find((u) => u.plugin === 'train');
  if (trainAfter) {
    return [
      {
        code: 'TS_ERR_PIPELINE_STAGE_ORDER',
        path: at,
        expected: `the train stage before assign`,
        found: `train at ${trainAfter.path}`,
        message: `"wait" holds records until a first model, but the train stage (${trainAfter.path}) comes after assign and never sees them; put train before assign`,
      },
    ];
  }
  const train = [...context.before].reverse().find((u) => u.plugin === 'train');
  const firstRoundAt = (train?.config as { firstRoundAt?: number } | undefined)?.firstRoundAt;
  // A waitRecords below the bound releases the held records before the source pauses.
  const released = config.waitRecords !== undefined && config.waitRecords < maxInFlight;
  if (!train || firstRoundAt === undefined || maxInFlight > firstRoundAt || released) return [];
  return [
    {
      code: 'TS_ERR_PIPELINE_IN_FLIGHT_TOO_LOW',
      path: at,
      expected: `runtime.maxInFlight above the train stage's firstRoundAt (${firstRoundAt})`,
      found: `runtime.maxInFlight ${maxInFlight}`,
      message: `"wait" holds records until the first model, which train publishes after ${firstRoundAt} records (${train.path}.with.firstRoundAt), but runtime.maxInFlight (${maxInFlight}) pauses the source first; raise runtime.maxInFlight above ${firstRoundAt} or lower firstRoundAt`,
    },
  ];
}
