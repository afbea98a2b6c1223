import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFile } from '../../src/cli/validate-command.ts';
import { formatIssue } from '../../src/runtime/pipeline/format-issue.ts';

const folder = 'test/fixtures/invalid-pipelines';
const cases = readdirSync(folder).filter((f) => f.endsWith('.json')).sort();

describe('invalid pipelines are rejected with their exact messages', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    it(name, async () => {
      const expected = readFileSync(join(folder, name.replace(/\.json$/, '.expected.txt')), 'utf8').trim().split('\n');
      const verdict = await validateFile(join(folder, name), { PATH: process.env.PATH });
      expect(verdict.valid).toBe(false);
      expect(verdict.issues.map(formatIssue)).toEqual(expected);
    });
  }
});
