import type { ValidationIssue } from '../schema/schema.ts';

/** One line per issue, the form printed by `validate` and asserted by the invalid-pipeline tests. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.code} at ${issue.path}: ${issue.message}`;
}

/** Issues listed per file: a file with a million duplicate ids must not print a million lines. */
export const MAX_LISTED_ISSUES = 50;

/** The first MAX_LISTED_ISSUES issues as lines, then one line with how many more there are. */
export function formatIssueList(issues: readonly ValidationIssue[]): string[] {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
  if (issues.length > MAX_LISTED_ISSUES) lines.push(`... and ${issues.length - MAX_LISTED_ISSUES} more issues (${issues.length} in all; the first ${MAX_LISTED_ISSUES} are listed)`);
  return lines;
}
