import { parseArgs } from 'node:util';
import { createRegistryWithBuiltins } from '../plugins/builtin-plugins.ts';
import { isTemiError } from '../runtime/errors.ts';
import { formatIssueList, MAX_LISTED_ISSUES } from '../runtime/pipeline/format-issue.ts';
import { resolvePipelineFile } from '../plugins/resolve-pipeline.ts';
import type { ValidationIssue } from '../runtime/schema/schema.ts';
import { EXIT, println, type CliIO } from './io.ts';

export const validateHelp = `Usage: temi-stream validate <pipeline.json>... [--json]

Checks pipeline files without running them: JSON syntax (duplicate keys included), the
pipeline shape, plugin names (with "did you mean"), each plugin's config, \${env:NAME} references
(values never shown), and rules across stages in pipeline order (what a stage reads must come
from an earlier one, a trainer needs an index, in-flight bounds that would stall a run).

Options:
  --json   print [{ file, valid, issues: [{ code, path, message, expected, found }] }]
           (at most 50 issues per file are listed; issueCount gives the total when more)
Exit codes: 0 all valid, 2 at least one invalid.`;

export interface FileVerdict {
  readonly file: string;
  readonly valid: boolean;
  readonly issues: ValidationIssue[];
  readonly summary?: string;
}

/** Validates one file into a verdict; file and JSON errors become issues at "$". */
export async function validateFile(file: string, env: NodeJS.ProcessEnv): Promise<FileVerdict> {
  try {
    const result = await resolvePipelineFile(file, createRegistryWithBuiltins(), env);
    if (!result.ok) return { file, valid: false, issues: result.issues };
    const p = result.pipeline;
    const flow = [p.source, ...p.stages, p.sink].map((s) => s.name).join(' -> ');
    return { file, valid: true, issues: [], summary: flow };
  } catch (error) {
    if (!isTemiError(error)) throw error;
    const where = error.where ?? file;
    return { file, valid: false, issues: [{ code: error.code, path: where, message: error.message.replace(`${error.code}: ${where}: `, '') }] };
  }
}

export async function validateCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || positionals.length === 0) {
    println(values.help ? io.stdout : io.stderr, validateHelp);
    return values.help ? EXIT.ok : EXIT.invalid;
  }
  const verdicts: FileVerdict[] = [];
  for (const file of positionals) verdicts.push(await validateFile(file, io.env));
  if (values.json) {
    println(io.stdout, JSON.stringify(verdicts.map(cappedVerdict), null, 2));
  } else {
    for (const v of verdicts) {
      if (v.valid) println(io.stdout, `${v.file}: valid (${v.summary})`);
      else for (const line of formatIssueList(v.issues)) println(io.stdout, `${v.file}: ${line}`);
    }
  }
  return verdicts.every((v) => v.valid) ? EXIT.ok : EXIT.invalid;
}

function cappedVerdict(v: FileVerdict): FileVerdict & { issueCount?: number } {
  return v.issues.length > MAX_LISTED_ISSUES ? { ...v, issues: v.issues.slice(0, MAX_LISTED_ISSUES), issueCount: v.issues.length } : v;
}
