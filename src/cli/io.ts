/** Where a command writes; tests pass buffers, the binary passes the process streams. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** Exit codes: 0 ok, 1 runtime failure, 2 invalid pipeline or usage. */
export const EXIT = { ok: 0, failure: 1, invalid: 2 } as const;

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
