import type { ValidationIssue } from '../schema/schema.ts';
import type { SecretRedactor } from '../services/secret-redactor.ts';

const REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${env:NAME}` (or `${env:NAME:-default}`) in every string of a parsed pipeline. Values
 * come only from the environment, are registered as secrets, and never appear in messages: an
 * issue names the variable and the JSON path, not the value.
 */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, redactor: SecretRedactor, issues: ValidationIssue[], path = '$'): unknown {
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
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, redactor, issues, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const childPath = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      out[k] = substituteEnv(v, env, redactor, issues, childPath);
    }
    return out;
  }
  return value;
}
