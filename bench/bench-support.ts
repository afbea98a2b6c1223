/** What several benches share: their `--name value` options and the system python that runs the PyTorch references. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's python, which has python3-torch and python3-sklearn (a pyenv python on PATH may not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const PYTORCH_THREADS = 2;

/** The value after `--name` on the command line, or `fallback`. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Why the PyTorch references cannot run here, or undefined when they can. */
export function torchUnavailable(): string | undefined {
  if (!existsSync(SYSTEM_PYTHON)) return `${SYSTEM_PYTHON} not found`;
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${SYSTEM_PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
}

/** Runs bench/reference/<script> with the system python on PYTORCH_THREADS threads; returns its stdout. */
export function runReference(script: string, args: string[]): string {
  const path = fileURLToPath(new URL(`./reference/${script}`, import.meta.url));
  return execFileSync(SYSTEM_PYTHON, [path, '--threads', String(PYTORCH_THREADS), ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(PYTORCH_THREADS) },
  });
}
