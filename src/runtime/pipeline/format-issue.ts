import type { ValidationIssue } from '../schema/schema.ts';

/** One line per issue, the form printed by `validate` and asserted by the invalid-pipeline tests. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.code} at ${issue.path}: ${issue.message}`;
}
