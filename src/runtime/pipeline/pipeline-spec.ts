import { s, type Infer } from '../schema/schema.ts';

/** A reference to a plugin in a pipeline file: `{ "use": "decode", "with": { ... } }`. */
export const stageRefSchema = s.object({
  use: s.string({ minLength: 1, description: 'Name of the plugin (see `temi-stream plugins`).' }),
  id: s.optional(
    s.string({
      pattern: /^[a-z][a-z0-9-]{0,62}$/,
      patternName: 'a lower-case id (letters, digits, dashes; starting with a letter)',
      description: 'Instance name used in logs, metrics and dead letters; defaults to the plugin name.',
    }),
  ),
  with: s.optional(s.any({ description: "The plugin's configuration; its schema depends on `use`." })),
});
export type StageRef = Infer<typeof stageRefSchema>;

export const pipelineSchema = s.object({
  $schema: s.optional(s.string({ description: 'Path or URL of pipeline.schema.json, for editors.' })),
  name: s.string({
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    patternName: 'a name of letters, digits, ".", "_" or "-"',
    description: 'Pipeline name; used for the default state directory, metrics and the Kafka client id.',
  }),
  description: s.optional(s.string()),
  plugins: s.array(s.string({ minLength: 1 }), {
    default: [],
    description: 'Plugin modules to load: paths relative to this file ("./my-plugin.ts") or package names.',
  }),
  source: stageRefSchema,
  stages: s.array(stageRefSchema, { default: [], description: 'Stages applied in order between source and sink.' }),
  sink: stageRefSchema,
  deadLetter: s.optional(stageRefSchema),
  state: s.object(
    {
      dir: s.optional(s.string({ minLength: 1, description: 'State directory (snapshots, index, models); default ./state/<name> beside the pipeline file.' })),
      snapshotIntervalMs: s.integer({ min: 1000, default: 60_000, description: 'How often state is snapshotted while running.' }),
    },
    { default: { snapshotIntervalMs: 60_000 } },
  ),
  metrics: s.object(
    {
      port: s.optional(s.integer({ min: 0, max: 65535, description: 'Serve Prometheus metrics on this port (0 picks a free one); off when absent.' })),
      host: s.string({ default: '127.0.0.1' }),
    },
    { default: { host: '127.0.0.1' } },
  ),
  runtime: s.object(
    {
      maxInFlight: s.integer({ min: 1, default: 1024, description: 'Records between source and final ack; the source pauses at this bound.' }),
      logLevel: s.enum(['debug', 'info', 'warn', 'error', 'silent'] as const, { default: 'info' }),
      progress: s.enum(['auto', 'bar', 'lines', 'off'] as const, { default: 'auto', description: 'Progress display for finite sources.' }),
      drainTimeoutMs: s.integer({ min: 0, default: 30_000, description: 'Bound on a stop, counted from the stop request: the stream finishing, drain hooks, flushes and the last acks all fit in it; what is cut short stays unacknowledged and is read again after a restart. The final snapshot gets what is left plus 3 s.' }),
    },
    { default: { maxInFlight: 1024, logLevel: 'info', progress: 'auto', drainTimeoutMs: 30_000 } },
  ),
});
export type PipelineSpec = Infer<typeof pipelineSchema>;
