import { Schema, type Annotations, type JsonSchema, type ValidationIssue } from '../../runtime/contracts/index.ts';

/** A rule across several keys, which a per-key schema cannot express; it reports its own issues. */
export type CrossKeyRule = (raw: Record<string, unknown>, path: string, issues: ValidationIssue[]) => void;

/**
 * Wraps an object schema with rules that look at several keys at once ("exactly one of folder or
 * idx"). The rules run on what the user wrote, so defaults filled in by the inner schema never
 * count as "given"; `jsonSchema` states the same rules for editors (e.g. `oneOf`).
 */
export class RefinedSchema<T> extends Schema<T> {
  constructor(
    private readonly inner: Schema<T>,
    private readonly rules: readonly CrossKeyRule[],
    private readonly jsonSchema: JsonSchema = {},
    annotations: Annotations<T> = {},
  ) {
    super(annotations);
  }

  expectation(): string {
    return this.inner.expectation();
  }

  protected check(value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
    const before = issues.length;
    const out = this.inner.checkAt(value, path, issues);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
    for (const rule of this.rules) rule(value as Record<string, unknown>, path, issues);
    return issues.length === before ? out : undefined;
  }

  protected describe(): JsonSchema {
    return { ...this.inner.toJsonSchema(), ...this.jsonSchema };
  }
}

/** Exactly one of `keys` must be given. */
export function exactlyOneOf(keys: readonly string[]): CrossKeyRule {
  return (raw, path, issues) => {
    const given = keys.filter((k) => raw[k] !== undefined);
    if (given.length === 1) return;
    const expected = `exactly one of ${keys.map((k) => JSON.stringify(k)).join(' or ')}`;
    issues.push({
      code: 'TS_ERR_CONFIG_ONE_OF',
      path,
      expected,
      found: given.length === 0 ? 'none of them' : `${given.map((k) => JSON.stringify(k)).join(' and ')}`,
      message: given.length === 0 ? `expected ${expected}` : `expected ${expected}, found both ${given.map((k) => JSON.stringify(k)).join(' and ')}`,
    });
  };
}

/** `dependents` only make sense together with `owner`: giving them without it is a mistake worth naming. */
export function onlyWith(owner: string, dependents: readonly string[]): CrossKeyRule {
  return (raw, path, issues) => {
    if (raw[owner] !== undefined) return;
    for (const key of dependents) {
      if (raw[key] === undefined) continue;
      issues.push({
        code: 'TS_ERR_CONFIG_UNUSED_KEY',
        path: `${path}.${key}`,
        expected: `${JSON.stringify(key)} only together with ${JSON.stringify(owner)}`,
        found: JSON.stringify(key),
        message: `${JSON.stringify(key)} applies only to ${JSON.stringify(owner)} and would be ignored here`,
      });
    }
  };
}
