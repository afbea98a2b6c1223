import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate-command.ts';
import { formatIssue } from '../../src/runtime/pipeline/format-issue.ts';

/**
 * Every pipeline the project ships (pipelines/, examples/) is valid with an empty environment:
 * the README, the demo, the Compose file and the docs name them, so a plugin option changed
 * under them must not go unnoticed until someone runs one.
 */
const shipped = [
  ...readdirSync('pipelines').filter((f) => f.endsWith('.json') && f !== 'pipeline.schema.json').map((f) => join('pipelines', f)),
  ...readdirSync('examples').filter((f) => f.endsWith('.json')).map((f) => join('examples', f)),
];

describe('shipped pipelines', () => {
  it('include the demo, the Kafka pipelines and the examples', () => {
    expect(shipped).toEqual(expect.arrayContaining(['pipelines/fashion-mnist.json', 'pipelines/shapes.json', 'pipelines/kafka.json', 'pipelines/worker.json', 'pipelines/trainer.json']));
  });

  it.each(shipped)('%s validates with only the defaults of its ${env:...} references', async (file) => {
    const verdict = await validateFile(file, { PATH: process.env.PATH });
    expect(verdict.issues.map(formatIssue)).toEqual([]);
    expect(verdict.valid).toBe(true);
  });
});
