import type { ValidationIssue } from '../schema/schema.ts';
import type { SecretRedactor } from '../services/secret-redactor.ts';
import { MAX_PIPELINE_DEPTH } from './parse-json.ts';

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${env:NAME}` (or `${env:NAME:-default}`) in every string of a parsed pipeline. Values
 * come only from the environment, are registered as secrets, and never appear in messages: an
 * issue names the variable and the JSON path, not the value. Keys are copied as own properties
 * (`__proto__` included), so the schemas see exactly the keys the file has.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, redactor: SecretRedactor, issues: ValidationIssue[], path = '$', depth = 0): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const resolved = env[name];
      if (resolved !== undefined) {
        redactor.register(resolved);
        return resolved;
      }
      if (fallback !== undefined) return fallback;
      issues.push({
        code: 'TS_ERR_PIPELINE_ENV_MISSING',
        path,
        expected: `environment variable ${name} to be set`,
        found: 'it unset',
        message: `environment variable ${name} is not set (referenced as \${env:${name}})`,
      });
      return '';
    });
  }
  if (value && typeof value === 'object' && depth >= MAX_PIPELINE_DEPTH) {
    // Parsed files are bounded already; this guards values handed to resolvePipeline directly.
    issues.push({ code: 'TS_ERR_PIPELINE_TOO_DEEP', path, expected: `at most ${MAX_PIPELINE_DEPTH} levels of nesting`, found: 'deeper nesting', message: `nested deeper than ${MAX_PIPELINE_DEPTH} levels; a pipeline needs a handful` });
    return undefined;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, redactor, issues, `${path}[${i}]`, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const childPath = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      // Plain assignment of "__proto__" would set the prototype and drop the key unseen.
      Object.defineProperty(out, k, { value: substituteEnv(v, env, redactor, issues, childPath, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
