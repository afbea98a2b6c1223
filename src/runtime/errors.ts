/**
 * Every user mistake surfaces as a TemiError: a stable code a user can search for, a message
 * that says what was expected and what was found, and `where` (a JSON path, a file, an offset)
 * so the fix can start at the right place.
 */
export class TemiError extends Error {
  readonly code: string;
  readonly where: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The message without the code: "where: what", as dead letters and summaries show it. */
  readonly reason: string;

  constructor(code: string, message: string, options: { where?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(options.where ? `${code}: ${options.where}: ${message}` : `${code}: ${message}`, { cause: options.cause });
    this.name = 'TemiError';
    this.code = code;
    this.where = options.where;
    this.details = options.details;
    this.reason = options.where ? `${options.where}: ${message}` : message;
  }
}

export function isTemiError(error: unknown): error is TemiError {
  return error instanceof TemiError;
}

/** Turns anything thrown into a one-line reason fit for a dead letter or a log line. */
export function reasonOf(error: unknown): string {
  if (isTemiError(error)) return error.reason;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The coded part of an error, for dead letters and metrics; uncoded errors count as stage failures. */
export function errorCode(error: unknown): string {
  return isTemiError(error) ? error.code : 'TS_ERR_STAGE_FAILED';
}
