import type { StagePlugin } from '../contracts/plugin.ts';
import { pipelineSchema } from './pipeline-spec.ts';
import type { JsonSchema } from '../schema/schema.ts';

/**
 * The JSON Schema editors use for pipeline files: the pipeline shape, with each `use` restricted
 * to plugins of the right kind and its `with` checked against that plugin's own schema.
 */
export function pipelineJsonSchema(plugins: readonly StagePlugin[]): JsonSchema {
  const root = pipelineSchema.toJsonSchema() as JsonSchema & { properties: Record<string, JsonSchema> };
  const refFor = (kind: StagePlugin['kind']): JsonSchema => {
    const ofKind = plugins.filter((p) => p.kind === kind);
    return {
      type: 'object',
      required: ['use'],
      properties: {
        use: { enum: ofKind.map((p) => p.name), description: `A ${kind} plugin.` },
        id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
        with: { type: 'object' },
      },
      additionalProperties: false,
      allOf: ofKind.map((p) => ({
        if: { properties: { use: { const: p.name } } },
        then: { properties: { with: { ...p.configSchema.toJsonSchema(), description: p.description } } },
      })),
    };
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://temi-stream.dev/pipeline.schema.json',
    title: 'temi-stream pipeline',
    ...root,
    properties: {
      ...root.properties,
      source: refFor('source'),
      stages: { type: 'array', items: refFor('stage'), description: root.properties.stages.description },
      sink: refFor('sink'),
      deadLetter: refFor('sink'),
    },
  };
}
