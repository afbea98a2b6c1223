import { TemiError } from '../errors.ts';
import type { ValidationIssue } from '../schema/schema.ts';

/**
 * Deepest nesting a pipeline file may have. Real pipelines nest 5 or 6 levels; everything after
 * parsing (env substitution, schema checks, structuredClone of defaults) walks the value
 * recursively, so a bound here keeps a hostile file from ending in a stack overflow.
 */
export const MAX_PIPELINE_DEPTH = 64;

/** Largest pipeline file read: real ones are a few KB, and reading is the one step whose cost a file sets. */
export const MAX_PIPELINE_BYTES = 64 * 1024 * 1024;

const BOM = '\uFEFF';

export interface ParsedJson {
  readonly value: unknown;
  /** Mistakes JSON.parse lets through (duplicate keys), with the JSON path of each. */
  readonly issues: ValidationIssue[];
}

/**
 * Parses a pipeline file: JSON.parse with the error located as file:line:column (V8 only gives
 * an offset), a leading UTF-8 byte order mark accepted (Windows editors write one, and the parse
 * error it gives shows an invisible character), nesting bounded, and duplicate keys reported,
 * since JSON.parse silently keeps the last of them.
 */
export function parsePipelineJson(text: string, file: string): ParsedJson {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  const offsetShift = body === text ? 0 : 1;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const where = at ? locate(text, Number(at[1]) + offsetShift, file) : file;
    throw new TemiError('TS_ERR_PIPELINE_JSON', `not valid JSON: ${message.replace(/^.*?JSON[^:]*:\s*/, '').replace(/ in JSON at position \d+.*$/, '')}`, { where, cause: error });
  }
  const issues: ValidationIssue[] = [];
  scanStructure(body, (offset) => locate(text, offset + offsetShift, file), (offset) => {
    const { line, column } = position(text, offset + offsetShift);
    return `line ${line}, column ${column}`;
  }, issues);
  return { value, issues };
}

function locate(text: string, offset: number, file: string): string {
  const { line, column } = position(text, offset);
  return `${file}:${line}:${column}`;
}

/** 1-based line and column of an offset; a byte order mark takes no column. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].replace(BOM, '').length + 1 };
}

interface Frame {
  readonly kind: 'object' | 'array';
  /** Keys seen so far in an object, with the offset of their first occurrence. */
  readonly keys?: Map<string, number>;
  /** The current member: a key in an object, an index in an array. */
  member: string | number | undefined;
  expectKey: boolean;
}

/**
 * One pass over text JSON.parse has already accepted, with an explicit stack (no recursion):
 * checks the nesting depth and finds keys that occur twice in one object.
 */
function scanStructure(text: string, where: (offset: number) => string, line: (offset: number) => string, issues: ValidationIssue[]): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_PIPELINE_DEPTH) {
        throw new TemiError('TS_ERR_PIPELINE_TOO_DEEP', `nested deeper than ${MAX_PIPELINE_DEPTH} levels (at ${shortened(pathOf(stack))}); a pipeline needs a handful`, { where: where(i) });
      }
      stack.push(c === 0x7b ? { kind: 'object', keys: new Map(), member: undefined, expectKey: true } : { kind: 'array', member: 0, expectKey: false });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = true;
      else if (top) top.member = (top.member as number) + 1;
    } else if (c === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = false;
    } else if (c === 0x22 /* " */) {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const first = top.keys!.get(key);
        top.member = key;
        if (first === undefined) {
          top.keys!.set(key, i);
        } else {
          const path = pathOf(stack);
          issues.push({
            code: 'TS_ERR_PIPELINE_DUPLICATE_KEY',
            path,
            expected: 'each key once per object',
            found: `${JSON.stringify(key)} again at ${line(i)}`,
            message: `key ${JSON.stringify(key)} is given twice (${line(first)} and ${line(i)}); JSON keeps only the last, so remove one`,
          });
        }
      }
      i = end;
    }
  }
}

/** Offset of the closing quote of the string opening at `start` (the text is valid JSON). */
function endOfString(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22) return j;
  }
  return text.length;
}

/** A path as long as the nesting is deep, cut to what fits a message line. */
function shortened(path: string): string {
  return path.length > 60 ? `${path.slice(0, 57)}...` : path;
}

/** The JSON path of the member being read, in the form schema issues use. */
function pathOf(stack: readonly Frame[]): string {
  let path = '$';
  for (const frame of stack) {
    if (frame.member === undefined) break;
    path += typeof frame.member === 'number' ? `[${frame.member}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(frame.member) ? `.${frame.member}` : `[${JSON.stringify(frame.member)}]`;
  }
  return path;
}
