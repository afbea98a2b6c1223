/**
 * One config schema per plugin drives validation, the generated JSON Schema for editors, and the
 * `plugins` docs / CLI help. The builder is small on purpose: the messages it produces are part of
 * the product (they name the JSON path, what was expected and what was found), so we own them
 * instead of translating a general validator's output.
 */
import { closestMatch } from './closest-match.ts';

export interface ValidationIssue {
  readonly code: string;
  /** JSON path of the offending value, e.g. `$.stages[1].with.batchSize`. */
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
}

export interface JsonSchema {
  [key: string]: unknown;
}

export interface Annotations<T> {
  readonly description?: string;
  readonly default?: T;
  readonly examples?: readonly T[];
}

/** A schema node: validates (returning the value with defaults filled in) and describes itself. */
export abstract class Schema<T> {
  declare readonly __type: T;
  readonly annotations: Annotations<T>;

  constructor(annotations: Annotations<T> = {}) {
    this.annotations = annotations;
  }

  /** Human summary of what is accepted, used in messages and docs ("integer >= 1"). */
  abstract expectation(): string;

  protected abstract check(value: unknown, path: string, issues: ValidationIssue[]): T | undefined;

  protected abstract describe(): JsonSchema;

  validate(value: unknown, path = '$', issues: ValidationIssue[] = []): { value: T | undefined; issues: ValidationIssue[] } {
    const result = this.check(value, path, issues);
    return { value: result, issues };
  }

  /** Internal entry used by composite schemas: applies the default when the value is absent. */
  checkAt(value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
    if (value === undefined && this.annotations.default !== undefined) return structuredClone(this.annotations.default);
    return this.check(value, path, issues);
  }

  get hasDefault(): boolean {
    return this.annotations.default !== undefined;
  }

  toJsonSchema(): JsonSchema {
    const out: JsonSchema = { ...this.describe() };
    if (this.annotations.description) out.description = this.annotations.description;
    if (this.annotations.default !== undefined) out.default = this.annotations.default;
    if (this.annotations.examples) out.examples = this.annotations.examples;
    return out;
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Renders a found value for a message without dumping whole objects (or secrets: long strings are cut). */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

export function issue(code: string, path: string, expected: string, value: unknown, message?: string): ValidationIssue {
  const found = describeFound(value);
  return { code, path, expected, found, message: message ?? `expected ${expected}, found ${found}` };
}

function typeMismatch(path: string, expected: string, value: unknown): ValidationIssue {
  return issue('TS_ERR_CONFIG_TYPE', path, expected, value);
}

interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: number;
}

class NumberSchema extends Schema<number> {
  constructor(private readonly integer: boolean, private readonly bounds: NumberBounds, annotations: Annotations<number>) {
    super(annotations);
  }

  expectation(): string {
    const parts = [this.integer ? 'an integer' : 'a number'];
    if (this.bounds.min !== undefined && this.bounds.max !== undefined) return `${parts[0]} from ${this.bounds.min} to ${this.bounds.max}`;
    if (this.bounds.min !== undefined) parts.push(`>= ${this.bounds.min}`);
    if (this.bounds.exclusiveMin !== undefined) parts.push(`> ${this.bounds.exclusiveMin}`);
    if (this.bounds.max !== undefined) parts.push(`<= ${this.bounds.max}`);
    return parts.join(' ');
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): number | undefined {
    const ok = typeof value === 'number' && Number.isFinite(value) && (!this.integer || Number.isInteger(value));
    if (!ok) {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    const v = value as number;
    const { min, max, exclusiveMin } = this.bounds;
    if ((min !== undefined && v < min) || (max !== undefined && v > max) || (exclusiveMin !== undefined && v <= exclusiveMin)) {
      issues.push(issue('TS_ERR_CONFIG_RANGE', path, this.expectation(), value));
      return undefined;
    }
    return v;
  }

  protected describe(): JsonSchema {
    const out: JsonSchema = { type: this.integer ? 'integer' : 'number' };
    if (this.bounds.min !== undefined) out.minimum = this.bounds.min;
    if (this.bounds.max !== undefined) out.maximum = this.bounds.max;
    if (this.bounds.exclusiveMin !== undefined) out.exclusiveMinimum = this.bounds.exclusiveMin;
    return out;
  }
}

interface StringRules {
  readonly minLength?: number;
  readonly pattern?: RegExp;
  /** Words the message uses for the pattern ("a topic name"). */
  readonly patternName?: string;
}

class StringSchema extends Schema<string> {
  constructor(private readonly rules: StringRules, annotations: Annotations<string>) {
    super(annotations);
  }

  expectation(): string {
    if (this.rules.patternName) return this.rules.patternName;
    if (this.rules.minLength) return `a string of at least ${this.rules.minLength} character${this.rules.minLength > 1 ? 's' : ''}`;
    return 'a string';
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): string | undefined {
    if (typeof value !== 'string') {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    if ((this.rules.minLength !== undefined && value.length < this.rules.minLength) || (this.rules.pattern && !this.rules.pattern.test(value))) {
      issues.push(issue('TS_ERR_CONFIG_FORMAT', path, this.expectation(), value));
      return undefined;
    }
    return value;
  }

  protected describe(): JsonSchema {
    const out: JsonSchema = { type: 'string' };
    if (this.rules.minLength !== undefined) out.minLength = this.rules.minLength;
    if (this.rules.pattern) out.pattern = this.rules.pattern.source;
    return out;
  }
}

class BooleanSchema extends Schema<boolean> {
  expectation(): string {
    return 'true or false';
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): boolean | undefined {
    if (typeof value !== 'boolean') {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    return value;
  }

  protected describe(): JsonSchema {
    return { type: 'boolean' };
  }
}

class EnumSchema<T extends string | number> extends Schema<T> {
  constructor(private readonly options: readonly T[], annotations: Annotations<T>) {
    super(annotations);
  }

  expectation(): string {
    return `one of ${this.options.map((o) => JSON.stringify(o)).join(', ')}`;
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
    if (this.options.includes(value as T)) return value as T;
    const near = typeof value === 'string' ? closestMatch(value, this.options.map(String)) : undefined;
    const found = describeFound(value);
    issues.push({
      code: 'TS_ERR_CONFIG_ENUM',
      path,
      expected: this.expectation(),
      found,
      message: `expected ${this.expectation()}, found ${found}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`,
    });
    return undefined;
  }

  protected describe(): JsonSchema {
    return { enum: [...this.options] };
  }
}

class ArraySchema<T> extends Schema<T[]> {
  constructor(private readonly items: Schema<T>, private readonly minItems: number | undefined, annotations: Annotations<T[]>) {
    super(annotations);
  }

  expectation(): string {
    return this.minItems ? `an array of at least ${this.minItems} item${this.minItems > 1 ? 's' : ''}` : 'an array';
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): T[] | undefined {
    if (!Array.isArray(value)) {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    if (this.minItems !== undefined && value.length < this.minItems) {
      issues.push(issue('TS_ERR_CONFIG_RANGE', path, this.expectation(), value));
      return undefined;
    }
    const before = issues.length;
    const out = value.map((item, i) => this.items.checkAt(item, `${path}[${i}]`, issues));
    return issues.length === before ? (out as T[]) : undefined;
  }

  protected describe(): JsonSchema {
    const out: JsonSchema = { type: 'array', items: this.items.toJsonSchema() };
    if (this.minItems !== undefined) out.minItems = this.minItems;
    return out;
  }
}

type Shape = Record<string, Schema<any>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<any> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type InferShape<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** Marks a property that may be absent (and has no default). */
export class OptionalSchema<T> extends Schema<T | undefined> {
  constructor(readonly inner: Schema<T>) {
    super({ description: inner.annotations.description });
  }

  expectation(): string {
    return this.inner.expectation();
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
    if (value === undefined) return undefined;
    return this.inner.checkAt(value, path, issues);
  }

  protected describe(): JsonSchema {
    const { description: _d, ...rest } = this.inner.toJsonSchema();
    return rest;
  }
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  constructor(readonly shape: S, annotations: Annotations<InferShape<S>> = {}, private readonly extraKeys: readonly string[] = []) {
    super(annotations);
  }

  expectation(): string {
    return 'an object';
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): InferShape<S> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    const before = issues.length;
    const input = value as Record<string, unknown>;
    const known = Object.keys(this.shape);
    for (const key of Object.keys(input)) {
      // Own keys only: `in` would also accept "__proto__", "constructor" and the rest of Object.prototype.
      if (Object.hasOwn(this.shape, key) || this.extraKeys.includes(key)) continue;
      const near = closestMatch(key, known);
      issues.push({
        code: 'TS_ERR_CONFIG_UNKNOWN_KEY',
        path: memberPath(path, key),
        expected: known.length ? `one of the keys ${known.map((k) => JSON.stringify(k)).join(', ')}` : 'no keys',
        found: JSON.stringify(key),
        message: `unknown key ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`,
      });
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      const child = input[key];
      if (child === undefined && !(schema instanceof OptionalSchema) && !schema.hasDefault) {
        issues.push({
          code: 'TS_ERR_CONFIG_MISSING',
          path: memberPath(path, key),
          expected: schema.expectation(),
          found: 'nothing',
          message: `missing required key ${JSON.stringify(key)} (${schema.expectation()})`,
        });
        continue;
      }
      const v = schema.checkAt(child, memberPath(path, key), issues);
      if (v !== undefined) out[key] = v;
    }
    return issues.length === before ? (out as InferShape<S>) : undefined;
  }

  protected describe(): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, schema] of Object.entries(this.shape)) {
      properties[key] = schema.toJsonSchema();
      if (!(schema instanceof OptionalSchema) && !schema.hasDefault) required.push(key);
    }
    for (const key of this.extraKeys) properties[key] = {};
    const out: JsonSchema = { type: 'object', properties, additionalProperties: false };
    if (required.length) out.required = required;
    return out;
  }
}

/** Free-form JSON (used where a plugin owns the shape, e.g. `with` before the plugin is known). */
class AnySchema extends Schema<unknown> {
  expectation(): string {
    return 'any JSON value';
  }

  protected check(value: unknown): unknown {
    return value;
  }

  protected describe(): JsonSchema {
    return {};
  }
}

class RecordSchema<T> extends Schema<Record<string, T>> {
  constructor(private readonly values: Schema<T>, annotations: Annotations<Record<string, T>>) {
    super(annotations);
  }

  expectation(): string {
    return `an object of ${this.values.expectation()} values`;
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): Record<string, T> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push(typeMismatch(path, this.expectation(), value));
      return undefined;
    }
    const before = issues.length;
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__') {
        // Assigning it would replace the prototype of the value handed to the plugin.
        issues.push({ code: 'TS_ERR_CONFIG_UNKNOWN_KEY', path: memberPath(path, k), expected: 'any key but "__proto__"', found: '"__proto__"', message: 'key "__proto__" is not allowed' });
        continue;
      }
      const checked = this.values.checkAt(v, memberPath(path, k), issues);
      if (checked !== undefined) out[k] = checked;
    }
    return issues.length === before ? out : undefined;
  }

  protected describe(): JsonSchema {
    return { type: 'object', additionalProperties: this.values.toJsonSchema() };
  }
}

/** The schema builder plugins use: `s.object({ size: s.integer({ min: 1, default: 32 }) })`. */
export const s = {
  integer: (o: NumberBounds & Annotations<number> = {}) => new NumberSchema(true, o, o),
  number: (o: NumberBounds & Annotations<number> = {}) => new NumberSchema(false, o, o),
  string: (o: StringRules & Annotations<string> = {}) => new StringSchema(o, o),
  boolean: (o: Annotations<boolean> = {}) => new BooleanSchema(o),
  enum: <const T extends string | number>(options: readonly T[], o: Annotations<T> = {}) => new EnumSchema<T>(options, o),
  array: <T>(items: Schema<T>, o: { minItems?: number } & Annotations<T[]> = {}) => new ArraySchema(items, o.minItems, o),
  object: <S extends Shape>(shape: S, o: Annotations<InferShape<S>> = {}) => new ObjectSchema(shape, o),
  record: <T>(values: Schema<T>, o: Annotations<Record<string, T>> = {}) => new RecordSchema(values, o),
  optional: <T>(inner: Schema<T>) => new OptionalSchema(inner),
  any: (o: Annotations<unknown> = {}) => new AnySchema(o),
};
