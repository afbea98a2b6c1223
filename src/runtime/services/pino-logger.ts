import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, Logger } from '../contracts/services.ts';
import type { SecretRedactor } from './secret-redactor.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Structured logs, one JSON line per event, on stderr so stdout stays free for data (jsonl to stdout). */
export function createLogger(level: LogLevel, redactor: SecretRedactor, destination: NodeJS.WritableStream = process.stderr): Logger {
  const base = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          // Redact after serialisation so secrets nested anywhere in fields are caught too.
          const redacted = args.map((a) => (typeof a === 'string' ? redactor.redact(a) : a && typeof a === 'object' ? JSON.parse(redactor.redact(JSON.stringify(a, jsonSafe))) : a));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination as DestinationStream,
  );
  return wrap(base);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { message: value.message, code: (value as { code?: unknown }).code };
  return value;
}

function wrap(p: Pino): Logger {
  return {
    debug: (m: string, f?: LogFields) => (f ? p.debug(f, m) : p.debug(m)),
    info: (m: string, f?: LogFields) => (f ? p.info(f, m) : p.info(m)),
    warn: (m: string, f?: LogFields) => (f ? p.warn(f, m) : p.warn(m)),
    error: (m: string, f?: LogFields) => (f ? p.error(f, m) : p.error(m)),
    child: (bindings: LogFields) => wrap(p.child(bindings)),
  };
}
